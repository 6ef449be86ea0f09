// 3D view of an ear scan (STL or PLY) with three.js from the npm package, served locally.
// The file comes from the branch-checked download view; nothing leaves the server.
// Sets data-loaded="true" on the container once the mesh is parsed and drawn, or
// data-loaded="error" with a readable message when the scan cannot be shown.
import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { PLYLoader } from "three/addons/loaders/PLYLoader.js";
import { STLLoader } from "three/addons/loaders/STLLoader.js";

const container = document.getElementById("scan-viewer");

function parse(buffer, format) {
  const loader = format === "ply" ? new PLYLoader() : new STLLoader();
  const geometry = loader.parse(buffer);
  // Scanners often write zero or stale normals: shade from the geometry itself.
  geometry.deleteAttribute("normal");
  geometry.computeVertexNormals();
  geometry.computeBoundingBox();
  geometry.center();
  geometry.computeBoundingSphere();
  return geometry;
}

function buildScene(geometry) {
  const width = container.clientWidth;
  const height = container.clientHeight;
  const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(window.devicePixelRatio);
  renderer.setSize(width, height);

  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0xf3f4f6);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x8899aa, 1.1));
  const light = new THREE.DirectionalLight(0xffffff, 2.4);
  light.position.set(1, 1, 2);
  scene.add(light);

  const material = new THREE.MeshStandardMaterial({
    color: 0xd9a88f, roughness: 0.6, metalness: 0.0, side: THREE.DoubleSide,
  });
  scene.add(new THREE.Mesh(geometry, material));

  const radius = geometry.boundingSphere.radius || 1;
  const camera = new THREE.PerspectiveCamera(40, width / height, radius / 100, radius * 100);
  camera.position.set(radius * 1.6, radius * 1.2, radius * 2.2);
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.enableDamping = true;

  function frame() {
    controls.update();
    renderer.render(scene, camera);
    requestAnimationFrame(frame);
  }
  new ResizeObserver(() => {
    camera.aspect = container.clientWidth / container.clientHeight;
    camera.updateProjectionMatrix();
    renderer.setSize(container.clientWidth, container.clientHeight);
  }).observe(container);
  renderer.render(scene, camera);
  return { renderer, frame };
}

async function show() {
  const status = container.querySelector("[data-role=status]");
  try {
    const response = await fetch(container.dataset.url, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}`);
    }
    const geometry = parse(await response.arrayBuffer(), container.dataset.format);
    const { renderer, frame } = buildScene(geometry);
    container.appendChild(renderer.domElement);
    status.remove();
    container.dataset.triangles = String(geometry.index ? geometry.index.count / 3 : geometry.getAttribute("position").count / 3);
    container.dataset.loaded = "true";
    requestAnimationFrame(frame);
  } catch (error) {
    console.error("scan viewer:", error);
    status.textContent = container.dataset.errorMessage;
    status.classList.add("text-danger");
    container.dataset.loaded = "error";
  }
}

if (container) {
  show();
}

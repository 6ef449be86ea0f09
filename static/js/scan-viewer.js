// 3D view of an ear scan (STL or PLY) with three.js from the npm package, served locally.
// The file comes from the branch-checked download view; nothing leaves the server.
// Sets data-loaded="true" on the container once the mesh is parsed and drawn, or
// data-loaded="error" with a readable message when the scan cannot be shown.
// Not for the mouse alone: the drawing is a focusable element with a label and the
// instructions (#scan-viewer-help); arrow keys turn the scan, + and - zoom. The container's
// data-view says the camera's azimuth, polar angle and distance after each key.
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
  controls.minDistance = radius * 0.5;
  controls.maxDistance = radius * 20;
  listenToKeys(renderer.domElement, camera, controls);

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

const TURN = Math.PI / 24;
const ZOOM = 1.15;
const KEYS = {
  ArrowLeft: [-TURN, 0, 1], ArrowRight: [TURN, 0, 1], ArrowUp: [0, -TURN, 1], ArrowDown: [0, TURN, 1],
  "+": [0, 0, 1 / ZOOM], "=": [0, 0, 1 / ZOOM], "-": [0, 0, ZOOM], "_": [0, 0, ZOOM],
};

function describeView(camera, controls) {
  const spherical = new THREE.Spherical().setFromVector3(camera.position.clone().sub(controls.target));
  container.dataset.view = [spherical.theta, spherical.phi, spherical.radius].map((value) => value.toFixed(4)).join(",");
}

function listenToKeys(canvas, camera, controls) {
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "application");
  canvas.setAttribute("aria-label", container.dataset.label);
  canvas.setAttribute("aria-describedby", "scan-viewer-help");
  canvas.classList.add("scan-canvas");
  canvas.addEventListener("keydown", (event) => {
    const move = KEYS[event.key];
    if (!move || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    event.preventDefault();
    const [azimuth, polar, zoom] = move;
    const offset = camera.position.clone().sub(controls.target);
    const spherical = new THREE.Spherical().setFromVector3(offset);
    spherical.theta += azimuth;
    spherical.phi = Math.min(Math.max(spherical.phi + polar, 0.05), Math.PI - 0.05);
    spherical.radius = Math.min(Math.max(spherical.radius * zoom, controls.minDistance), controls.maxDistance);
    camera.position.copy(controls.target).add(offset.setFromSpherical(spherical));
    camera.lookAt(controls.target);
    controls.update();
    describeView(camera, controls);
  });
  describeView(camera, controls);
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

// The accessibility check of the browser tests (tests/accessibility.py), injected after
// axe-core into every document of a test's page. It runs axe-core with the WCAG 2.2 A/AA rules
// once the document has loaded and again after every htmx swap, and hands each result to the
// test through the binding window.otoorderA11yReport. While a check runs, a transparent marker
// element is on the page: the test's side waits for the check before its next action, so
// that no page is left unchecked.
(() => {
  "use strict";
  if (window.top !== window || typeof window.axe === "undefined") {
    return;
  }
  const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];
  const MARKER = "otoorder-a11y-pending";
  let running = null;
  let again = false;

  function showMarker() {
    if (document.getElementById(MARKER)) {
      return;
    }
    const marker = document.createElement("div");
    marker.id = MARKER;
    marker.setAttribute("aria-hidden", "true");
    // Through the CSSOM: the Content-Security-Policy allows no style attribute.
    Object.assign(marker.style, {
      position: "fixed", top: "0", left: "0", width: "1px", height: "1px",
      opacity: "0", pointerEvents: "none", zIndex: "-1",
    });
    document.documentElement.appendChild(marker);
  }

  function hideMarker() {
    const marker = document.getElementById(MARKER);
    if (marker) {
      marker.remove();
    }
  }

  function violations(result) {
    const found = [];
    for (const rule of result.violations) {
      for (const node of rule.nodes) {
        found.push({
          rule: rule.id,
          impact: node.impact || rule.impact,
          target: node.target.map(String).join(" "),
          help: rule.help,
          summary: node.failureSummary || "",
          html: node.html || "",
        });
      }
    }
    return found;
  }

  function check() {
    showMarker();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        const result = await window.axe.run({ include: [document], exclude: [[`#${MARKER}`]] }, {
          runOnly: { type: "tag", values: TAGS },
          resultTypes: ["violations"],
        });
        await window.otoorderA11yReport({ url: window.location.href, violations: violations(result) });
      } while (again);
    })().finally(() => {
      running = null;
      hideMarker();
    });
    return running;
  }

  window.__otoorderA11y = {
    check,
    // Resolves once no check runs any more.
    async idle() {
      while (running) {
        await running;
      }
    },
  };
  window.addEventListener("load", () => check());
  document.addEventListener("htmx:afterSettle", () => check());
  // A document left while its check runs is reported, so that it does not pass unchecked.
  window.addEventListener("pagehide", () => {
    if (running) {
      window.otoorderA11yReport({ url: window.location.href, unfinished: true });
    }
  });
})();

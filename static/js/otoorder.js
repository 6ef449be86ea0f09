// Behaviour every page shares, here instead of inline handlers (the Content-Security-Policy
// allows no inline script). Delegated from the document, so that it also works for parts
// htmx swaps in later.
//   <select data-autosubmit>         submits its form when the choice changes;
//   <form data-confirm="question">   asks the question and submits only on OK.
"use strict";

document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLElement && field.matches("[data-autosubmit]") && field.form) {
    field.form.submit();
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// Live status (otoorder/orders/live.py): <div id="live-region" hx-get="…?live=<version>"
// hx-trigger="every 5000ms, live-check" data-live-hidden-ms="60000"> asks the server whether
// what it shows changed; 304 leaves the page alone, 200 brings the region anew.
//   - a hidden tab checks at most once per data-live-hidden-ms, and at once when shown again;
//     it says so in the header X-Otoorder-Tab (what it brings is not seen yet: the lab's
//     messages stay unread);
//   - nothing is swapped while a field inside the region has the focus or holds what
//     someone typed or chose and has not sent yet (the next check brings the change, as the
//     version in the URL stays the old one);
//   - an answer that is not the region (the session ended: the login page) reloads the page.
let lastLiveCheck = 0;

function isLiveRegion(element) {
  return element instanceof HTMLElement && element.id === "live-region";
}

document.addEventListener("htmx:beforeRequest", (event) => {
  const region = event.detail.elt;
  if (!isLiveRegion(region)) {
    return;
  }
  const now = Date.now();
  if (document.hidden && now - lastLiveCheck < Number(region.dataset.liveHiddenMs || 0)) {
    event.preventDefault();
    return;
  }
  lastLiveCheck = now;
});

document.addEventListener("htmx:configRequest", (event) => {
  if (isLiveRegion(event.detail.elt)) {
    event.detail.headers["X-Otoorder-Tab"] = document.hidden ? "hidden" : "visible";
  }
});

document.addEventListener("visibilitychange", () => {
  const region = document.getElementById("live-region");
  if (!document.hidden && region && region.hasAttribute("hx-get") && window.htmx) {
    window.htmx.trigger(region, "live-check");
  }
});

document.addEventListener("htmx:beforeSwap", (event) => {
  const region = event.detail.target;
  // Only the region's own status check: a page may also swap its region on purpose (the
  // worklist's search as you type).
  const checkedByRegion = event.detail.requestConfig && event.detail.requestConfig.elt === region;
  if (!isLiveRegion(region) || !checkedByRegion || !event.detail.shouldSwap) {
    return;
  }
  const answeredBy = new URL(event.detail.xhr.responseURL || window.location.href);
  if (!answeredBy.searchParams.has("live")) {
    event.detail.shouldSwap = false;
    window.location.reload();
    return;
  }
  const focused = document.activeElement;
  if ((focused && region.contains(focused) && focused.matches("input, textarea, select")) || hasUnsentInput(region)) {
    event.detail.shouldSwap = false;
  }
});

function hasUnsentInput(region) {
  for (const field of region.querySelectorAll("input, textarea, select")) {
    if (field instanceof HTMLSelectElement) {
      if (selectChanged(field)) {
        return true;
      }
    } else if (field.type === "checkbox" || field.type === "radio") {
      if (field.checked !== field.defaultChecked) {
        return true;
      }
    } else if (field.type !== "hidden" && field.type !== "file" && field.value !== field.defaultValue) {
      return true;
    } else if (field.type === "file" && field.files && field.files.length > 0) {
      return true;
    }
  }
  return false;
}

function selectChanged(select) {
  const options = Array.from(select.options);
  if (options.length === 0) {
    return false;
  }
  if (select.multiple) {
    return options.some((option) => option.selected !== option.defaultSelected);
  }
  // A single choice without a "selected" option starts on its first option.
  const initial = options.findIndex((option) => option.defaultSelected);
  return select.selectedIndex !== (initial === -1 ? 0 : initial);
}

// A status check that brings the region anew keeps the keyboard's place: the link that had
// the focus (a worklist row, a sort header) has it again in the new region.
let liveFocusHref = null;

document.addEventListener("htmx:beforeSwap", (event) => {
  const region = event.detail.target;
  const focused = document.activeElement;
  liveFocusHref = isLiveRegion(region) && event.detail.shouldSwap && focused instanceof HTMLAnchorElement && region.contains(focused)
    ? focused.getAttribute("href")
    : null;
});

document.addEventListener("htmx:afterSettle", () => {
  const region = document.getElementById("live-region");
  if (liveFocusHref === null || !region) {
    return;
  }
  const link = Array.from(region.querySelectorAll("a[href]")).find((a) => a.getAttribute("href") === liveFocusHref);
  liveFocusHref = null;
  if (link) {
    link.focus();
  }
});

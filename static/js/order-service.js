// Bestellservice form: small conveniences on top of plain HTML (the form works without them).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // After a refused submit, start where the first problem is.
    var invalid = document.querySelector(".order-form .is-invalid");
    if (invalid) { invalid.focus(); }
    // Filling in an ear's fields means ordering that ear: switch it on.
    document.querySelectorAll(".ear-card").forEach(function (card) {
      var toggle = card.querySelector(".ear-toggle");
      card.querySelector(".ear-body").addEventListener("change", function () {
        if (toggle && !toggle.checked) { toggle.checked = true; }
      });
    });
    // One click, one order: a second submit while the first is on its way is ignored.
    document.querySelectorAll("form[data-disable-on-submit]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.submitting) { event.preventDefault(); return; }
        form.dataset.submitting = "1";
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      });
    });
  });
  // Back from the next page (back/forward cache): the form is usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-disable-on-submit]").forEach(function (form) {
      delete form.dataset.submitting;
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
    });
  });
})();

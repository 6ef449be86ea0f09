// Bestellservice form: small conveniences on top of plain HTML (the form works without them;
// the server applies the same rules with check_item).
(function () {
  "use strict";

  // The field's grid column (so that the row closes up), else its crispy wrapper.
  function wrapper(field) {
    var inner = field.closest("[id^='div_id_']") || field.parentElement;
    var column = inner.parentElement;
    return column && /(^|\s)col(-|\s|$)/.test(column.className) ? column : inner;
  }

  // Show only the fields that apply to the ear's product family and material: tube for
  // BTE/thin tube, receiver for RIC, filter for hearing protection, Shore A for soft materials.
  function applyFamily(card) {
    var family = card.querySelector("select[name$='-product_family']");
    var material = card.querySelector("select[name$='-material']");
    card.querySelectorAll("[data-families]").forEach(function (field) {
      var show = !family || !family.value || field.dataset.families.split(" ").indexOf(family.value) >= 0;
      wrapper(field).classList.toggle("d-none", !show);
    });
    card.querySelectorAll("[data-materials]").forEach(function (field) {
      var show = material && field.dataset.materials.split(" ").indexOf(material.value) >= 0;
      // A value typed earlier stays visible so that the server's message can be seen.
      wrapper(field).classList.toggle("d-none", !show && !field.value);
    });
  }

  // Remakes and modifications name the original order and a reason; other types do not.
  function applyOrderType(form) {
    var type = form.querySelector("select[name='order_type']");
    var area = form.querySelector(".follow-up-fields");
    if (!type || !area) { return; }
    var show = type.value === "remake" || type.value === "modification" ||
      area.querySelector(".is-invalid") !== null;
    area.classList.toggle("d-none", !show);
  }

  // "auf links übernehmen": every field of one ear onto the other, except the impression
  // (an impression belongs to one ear).
  function copyEar(from, to) {
    var source = document.getElementById("ear-" + from);
    var target = document.getElementById("ear-" + to);
    source.querySelectorAll("input, select, textarea").forEach(function (field) {
      if (!field.name) { return; }
      var name = field.name.replace(from + "-", "");
      if (name === "impression") { return; }
      var other = target.querySelector("[name='" + to + "-" + name + "']");
      if (!other) { return; }
      if (field.type === "checkbox") { other.checked = field.checked; } else { other.value = field.value; }
    });
    var toggle = target.querySelector(".ear-toggle");
    if (toggle) { toggle.checked = true; }
    applyFamily(target);
  }

  document.addEventListener("DOMContentLoaded", function () {
    // After a refused submit, start where the first problem is.
    var invalid = document.querySelector(".order-form .is-invalid");
    if (invalid) { invalid.focus(); }
    // Filling in an ear's fields means ordering that ear: switch it on.
    document.querySelectorAll(".ear-card").forEach(function (card) {
      var toggle = card.querySelector(".ear-toggle");
      card.querySelector(".ear-body").addEventListener("change", function () {
        if (toggle && !toggle.checked) { toggle.checked = true; }
        applyFamily(card);
      });
      applyFamily(card);
    });
    document.querySelectorAll(".copy-ear").forEach(function (button) {
      button.addEventListener("click", function () { copyEar(button.dataset.from, button.dataset.to); });
    });
    document.querySelectorAll(".order-form").forEach(function (form) {
      var type = form.querySelector("select[name='order_type']");
      if (type) { type.addEventListener("change", function () { applyOrderType(form); }); }
      applyOrderType(form);
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

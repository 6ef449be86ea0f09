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

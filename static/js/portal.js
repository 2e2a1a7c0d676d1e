/* Behaviour of the portal's pages, without inline script (the Content-Security-Policy allows none):
 *   data-confirm="…"      on a form (on submit) or a submit button (on click): ask before going on
 *   data-require="name"   with data-confirm: the named field of the form must be filled in first
 *   data-require-label    what to say when it is empty (default: 请填写原因)
 *   data-check-all="name" on a checkbox: ticks or clears the checkboxes of that name in its form
 *   data-count-checked="name" on a form with data-confirm: "{n}" in the message is the number ticked
 *   data-print            on a button: print the page
 *   data-reload-after="s" on any element: reload the page after s seconds
 *   data-autofocus        on a field: focus it when the page opens
 */
(function () {
  "use strict";

  function requirementMet(element, form) {
    const name = element.getAttribute("data-require");
    if (!name || !form) return true;
    const field = form.elements[name];
    if (field && field.value.trim() === "") {
      window.alert(element.getAttribute("data-require-label") || "请填写原因");
      field.focus();
      return false;
    }
    return true;
  }

  function message(element, form) {
    let text = element.getAttribute("data-confirm");
    const counted = element.getAttribute("data-count-checked") || (form && form.getAttribute("data-count-checked"));
    if (counted && form) {
      const n = form.querySelectorAll('input[name="' + counted + '"]:checked').length;
      if (n === 0) {
        window.alert("请先选择");
        return null;
      }
      text = text.replace("{n}", String(n));
    }
    return text;
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-confirm], input[type=submit][data-confirm]");
    if (button) {
      const form = button.form;
      const text = message(button, form);
      if (!requirementMet(button, form) || text === null || !window.confirm(text)) {
        event.preventDefault();
        event.stopPropagation();
        return;
      }
      button.setAttribute("data-confirmed", "1");
    }
    const printer = event.target.closest("[data-print]");
    if (printer) {
      event.preventDefault();
      window.print();
    }
  }, true);

  document.addEventListener("submit", function (event) {
    const form = event.target;
    const submitter = event.submitter;
    if (submitter && submitter.getAttribute("data-confirmed") === "1") {
      submitter.removeAttribute("data-confirmed");
      return;
    }
    if (!form.hasAttribute("data-confirm")) return;
    const text = message(form, form);
    if (!requirementMet(form, form) || text === null || !window.confirm(text)) {
      event.preventDefault();
    }
  }, true);

  document.addEventListener("change", function (event) {
    const box = event.target.closest("input[data-check-all]");
    if (!box) return;
    const scope = box.form || document;
    scope.querySelectorAll('input[name="' + box.getAttribute("data-check-all") + '"]').forEach(function (c) {
      c.checked = box.checked;
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    const focus = document.querySelector("[data-autofocus]");
    if (focus) focus.focus();
    const reload = document.querySelector("[data-reload-after]");
    if (reload) {
      window.setTimeout(function () { window.location.reload(); }, 1000 * Number(reload.getAttribute("data-reload-after")));
    }
  });
})();

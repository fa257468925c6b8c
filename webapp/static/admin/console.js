// The console's behaviour that Flask-Admin and our templates used to put in inline handlers
// (onclick, onchange, onsubmit), which the Content-Security-Policy does not run.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var target = event.target.closest("a, button");
    if (!target) return;
    if (target.matches("[data-fa-action]")) {
      event.preventDefault();
      window.modelActions.execute(target.getAttribute("data-fa-action"));
    } else if (target.matches("[data-fa-inline-add]")) {
      event.preventDefault();
      window.faForm.addInlineField(target, target.getAttribute("data-fa-inline-add"));
    } else if (target.matches("button[data-confirm]")) {
      if (!window.confirm(target.getAttribute("data-confirm"))) event.preventDefault();
    } else if (target.matches('a[href="#"]')) {
      event.preventDefault(); // dropdown items and filter links: their own scripts do the work
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form[data-confirm]") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });

  // List cells stay on one line and long ones end in an ellipsis (console.css); their full text
  // is then the cell's tooltip.
  document.querySelectorAll(".model-list td").forEach(function (cell) {
    if (cell.scrollWidth > cell.clientWidth && !cell.title) cell.title = cell.textContent.trim();
  });
})();

/* The 打印 button of the print views (no inline handlers: CSP). */
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});

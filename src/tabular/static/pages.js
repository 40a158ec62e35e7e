// Tabular account pages: copy buttons. The pages work without this script; it only adds the buttons.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var status = button.closest("section") && button.closest("section").querySelector(".copied");
      navigator.clipboard.writeText(source.textContent.trim()).then(
        function () { if (status) { status.textContent = "Copied."; } },
        function () { if (status) { status.textContent = "Could not copy: select the text and copy it."; } }
      );
    });
  });
});

// The compound form: choosing a community fills 所在街道 with that community's 街办 (the server does the same on save).
(function () {
  "use strict";
  var community = document.getElementById("id_community");
  var street = document.getElementById("id_sub_district");
  if (!community || !street) { return; }
  function follow() {
    var option = community.options[community.selectedIndex];
    var code = option ? option.getAttribute("data-street") : "";
    if (code) { street.value = code; }
  }
  community.addEventListener("change", follow);
  follow();
})();

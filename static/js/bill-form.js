/* Inline checks of the bill form before the round trip; the server checks the same rules again. */
(function () {
  "use strict";
  const form = document.getElementById("bill-form");
  if (!form) return;
  const box = document.getElementById("bill-check");
  const num = function (name) { return parseFloat(form.elements[name].value || "0"); };
  const date = function (name) { return form.elements[name].value; };
  form.elements["hospital"].focus();
  form.addEventListener("submit", function (event) {
    const problems = [];
    if (num("in_policy") > num("total")) problems.push("政策范围内费用不能大于医疗总费用");
    if (num("basic") + num("critical") + num("other") > num("total")) problems.push("各项保险支付之和不能大于医疗总费用");
    if (form.elements["visit_type"].value === "住院") {
      if (!date("admitted_on") || !date("discharged_on")) problems.push("住院须填写入院日期和出院日期");
      else if (date("discharged_on") < date("admitted_on")) problems.push("出院日期早于入院日期");
    } else if (form.elements["visit_type"].value && !date("visit_on")) problems.push("门诊须填写就诊日期");
    if (problems.length) {
      event.preventDefault();
      box.textContent = problems.join("；");
      box.classList.remove("d-none");
    }
  });
})();

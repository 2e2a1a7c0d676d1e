/* The dashboard's charts, drawn from the data the page carries as JSON (json_script): no inline script. */
(function () {
  "use strict";
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  // One colour per channel, whatever order the rows come in: 一站式 blue, 零星报销 orange, 二次救助 green.
  const CHANNEL_COLOURS = {onestop: "#0d6efd", manual: "#fd7e14", secondary: "#198754", none: "#adb5bd"};
  // A fresh options object per chart: Chart.js fills in the object it is given.
  const common = function (extra) {
    return Object.assign({responsive: true, animation: false, plugins: {legend: {display: false}}}, extra || {});
  };
  new Chart(document.getElementById("chart-month"), {
    type: "line",
    data: {labels: data.month.labels, datasets: [{data: data.month.values, borderColor: "#0d6efd", tension: 0.2}]},
    options: common(),
  });
  new Chart(document.getElementById("chart-channel"), {
    type: "doughnut",
    data: {
      labels: data.channel.labels,
      datasets: [{data: data.channel.values, backgroundColor: data.channel.keys.map(function (k) { return CHANNEL_COLOURS[k] || "#6c757d"; })}],
    },
    options: common({plugins: {legend: {display: true, position: "bottom"}}}),
  });
  new Chart(document.getElementById("chart-category"), {
    type: "bar",
    data: {labels: data.category.labels, datasets: [{data: data.category.values, backgroundColor: "#6f42c1"}]},
    options: common({scales: {x: {ticks: {autoSkip: false, maxRotation: 60}}}}),
  });
  // Every township labelled: one bar row each, the canvas as tall as the list.
  const townships = document.getElementById("chart-township");
  townships.parentElement.style.height = Math.max(200, 26 * data.township.labels.length + 40) + "px";
  new Chart(townships, {
    type: "bar",
    data: {labels: data.township.labels, datasets: [{data: data.township.values, backgroundColor: "#198754"}]},
    options: common({indexAxis: "y", maintainAspectRatio: false, scales: {y: {ticks: {autoSkip: false}}}}),
  });
})();

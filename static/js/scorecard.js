// Lab scorecards: two bar charts from the figures the page passes as JSON (no inline script: CSP).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("scorecard-data");
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var colours = ["#0d6efd", "#6f42c1", "#198754", "#fd7e14"];
    function series(keys, scale) {
      return keys.map(function (key, index) {
        return {
          label: data.names[key],
          data: data.series[key].map(function (value) { return value === null ? null : value * scale; }),
          backgroundColor: colours[index % colours.length]
        };
      });
    }
    var options = { responsive: true, animation: false, scales: { y: { beginAtZero: true } } };
    new Chart(document.getElementById("scorecard-turnaround"), {
      type: "bar",
      data: { labels: data.labels, datasets: series(["shipped_median_days", "shipped_p90_days", "received_median_days", "received_p90_days"], 1) },
      options: options
    });
    new Chart(document.getElementById("scorecard-rates"), {
      type: "bar",
      data: { labels: data.labels, datasets: series(["on_time_rate", "remake_rate"], 100) },
      options: { responsive: true, animation: false, scales: { y: { beginAtZero: true, max: 100 } } }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();

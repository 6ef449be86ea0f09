// Lab scorecards: three bar charts from the figures the page passes as JSON (no inline script: CSP).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("scorecard-data");
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var colours = ["#0d6efd", "#6f42c1", "#198754", "#b35900"];
    var locale = document.documentElement.lang || "de";
    function series(keys, scale) {
      return keys.map(function (key, index) {
        return {
          label: data.legend[key],
          data: data.series[key].map(function (value) {
            return value === null ? null : Math.round(value * scale * 10) / 10;
          }),
          backgroundColor: colours[index % colours.length]
        };
      });
    }
    function number(value) { return value.toLocaleString(locale); }
    function percent(value) { return value.toLocaleString(locale) + " %"; }
    function options(format, extra) {
      extra = extra || {};
      var x = { stacked: !!extra.stacked, ticks: { autoSkip: false, maxRotation: 45 } };
      var y = Object.assign({ stacked: !!extra.stacked, beginAtZero: true, ticks: { callback: format } }, extra.y);
      return {
        responsive: true,
        animation: false,
        scales: { x: x, y: y },
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: { label: function (item) { return item.dataset.label + ": " + format(item.raw); } } }
        }
      };
    }
    new Chart(document.getElementById("scorecard-turnaround"), {
      type: "bar",
      data: { labels: data.labels, datasets: series(["shipped_median_days", "shipped_p90_days", "received_median_days", "received_p90_days"], 1) },
      options: options(number)
    });
    new Chart(document.getElementById("scorecard-on-time"), {
      type: "bar",
      data: { labels: data.labels, datasets: series(["on_time_rate"], 100) },
      options: options(percent, { y: { max: 100 } })
    });
    new Chart(document.getElementById("scorecard-remakes"), {
      type: "bar",
      data: { labels: data.labels, datasets: series(["fit_remake_rate", "material_remake_rate", "uncategorised_remake_rate"], 100) },
      options: options(percent, { stacked: true })
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();

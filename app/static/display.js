// The hall display chimes when a number is called or recalled (the fragment's data-latest changes).
// Browsers play sound only after a tap on the page: the button turns the chime on once.
(function () {
  var audio = null, last = null;
  function chime() {
    if (!audio) return;
    [660, 880].forEach(function (freq, i) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = freq; osc.connect(gain); gain.connect(audio.destination);
      var t = audio.currentTime + i * 0.35;
      gain.gain.setValueAtTime(0.3, t); gain.gain.exponentialRampToValueAtTime(0.001, t + 0.3);
      osc.start(t); osc.stop(t + 0.32);
    });
  }
  function check() {
    var calls = document.getElementById("calls");
    var latest = calls ? calls.getAttribute("data-latest") : null;
    if (last !== null && latest && latest !== last) chime();
    last = latest || "";
  }
  document.addEventListener("DOMContentLoaded", function () {
    check();
    var button = document.getElementById("sound-on");
    if (button) button.addEventListener("click", function () {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx) { audio = new Ctx(); chime(); }
      button.hidden = true;
    });
  });
  document.addEventListener("htmx:afterSwap", check);
})();

/**
 * The contact sheet's own script: synced playback per shot, one clip's sound
 * at a time, keyboard navigation, picks kept in localStorage and exported as
 * `picks.yaml`, clips loaded only when in view. It reads everything it needs
 * from the page's escaped data attributes, so no report text is ever part of
 * the script; the page's CSP allows this script alone (by its hash).
 * Plain ES2017: the project compiles without the DOM lib, so this is a string.
 */
export const SHEET_SCRIPT = String.raw`
(function () {
  "use strict";
  var FRAME = 1 / 24;
  var DRIFT = 0.1;
  var noop = function () {};
  var all = function (root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); };
  var runId = document.body.getAttribute("data-run-id") || "";
  var storageKey = "shotlist-picks:" + runId;
  var sections = all(document, "section.shot");
  var cards = all(document, ".card");
  var focus = { shot: 0, variant: 0 };

  function load(video) {
    var source = video.getAttribute("data-src");
    if (source && !video.getAttribute("src")) {
      video.preload = "auto";
      video.src = source;
    }
  }
  var lazy = all(document, "video[data-src]");
  if ("IntersectionObserver" in window) {
    var watcher = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        watcher.unobserve(entry.target);
        load(entry.target);
      });
    }, { rootMargin: "300px 0px" });
    lazy.forEach(function (video) { watcher.observe(video); });
  } else {
    lazy.forEach(load);
  }

  function makePlayer(section) {
    var videos = all(section, "video");
    var control = section.querySelector(".shot-control");
    if (!control || videos.length === 0) return null;
    var button = control.querySelector(".play");
    var seek = control.querySelector(".seek");
    var loop = control.querySelector(".loop");
    var time = control.querySelector(".time");
    var length = Number(seek.max) || 0;
    var playing = false;
    var frame = 0;
    var durationOf = function (video) { return Number(video.getAttribute("data-duration")) || 0; };
    var lead = videos.reduce(function (a, b) { return durationOf(b) > durationOf(a) ? b : a; });
    var clamp = function (video, t) {
      var d = video.duration;
      return isFinite(d) && d > 0 ? Math.min(t, d) : t;
    };
    function show(t) {
      seek.value = String(t);
      time.textContent = t.toFixed(2) + " / " + length.toFixed(2) + " s";
    }
    function seekTo(t) {
      videos.forEach(function (video) { video.currentTime = clamp(video, t); });
      show(t);
    }
    function tick() {
      if (!playing) return;
      var t = lead.currentTime;
      videos.forEach(function (video) {
        if (video === lead || video.readyState < 2) return;
        var target = clamp(video, t);
        if (Math.abs(video.currentTime - target) > DRIFT) video.currentTime = target;
        if (video.paused && t < video.duration) video.play().catch(noop);
      });
      show(t);
      frame = requestAnimationFrame(tick);
    }
    function showState() {
      button.textContent = playing ? "\u275a\u275a" : "\u25b6";
      button.setAttribute("aria-label", (playing ? "pause " : "play ") + section.getAttribute("data-shot"));
      section.classList.toggle("playing", playing);
    }
    function play() {
      players.forEach(function (other) { if (other && other !== player) other.pause(); });
      videos.forEach(load);
      var t = Number(seek.value);
      seekTo(t >= length - FRAME ? 0 : t);
      playing = true;
      videos.forEach(function (video) { video.play().catch(noop); });
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(tick);
      showState();
    }
    function pause() {
      if (!playing) return;
      playing = false;
      cancelAnimationFrame(frame);
      videos.forEach(function (video) { video.pause(); });
      seekTo(lead.currentTime);
      showState();
    }
    lead.addEventListener("ended", function () {
      if (!playing) return;
      if (!loop.checked) return pause();
      seekTo(0);
      videos.forEach(function (video) { video.play().catch(noop); });
    });
    button.addEventListener("click", function () { if (playing) pause(); else play(); });
    seek.addEventListener("input", function () {
      videos.forEach(load);
      seekTo(Number(seek.value));
    });
    videos.forEach(function (video) {
      video.addEventListener("click", function () { if (playing) pause(); else play(); });
    });
    var player = { play: play, pause: pause, toggle: function () { if (playing) pause(); else play(); } };
    return player;
  }
  var players = sections.map(makePlayer);

  function setSound(card) {
    var video = card && card.querySelector("video");
    if (!video) return;
    var turnOn = video.muted;
    all(document, "video").forEach(function (other) { other.muted = true; });
    video.muted = !turnOn;
    cards.forEach(function (other) {
      var toggle = other.querySelector(".sound");
      var clip = other.querySelector("video");
      if (toggle && clip) toggle.setAttribute("aria-pressed", String(!clip.muted));
    });
  }

  var picks = Object.create(null);
  var pickCount = document.querySelector(".pick-count");
  var exportButton = document.querySelector(".export-picks");
  var pickable = function (card) { return !!card && card.getAttribute("data-pickable") === "true"; };
  var cardOf = function (shot, job) {
    return cards.filter(function (card) {
      return card.getAttribute("data-shot") === shot && card.getAttribute("data-job-id") === job;
    })[0];
  };
  function readPicks() {
    try {
      var stored = JSON.parse(localStorage.getItem(storageKey) || "{}");
      Object.keys(stored).forEach(function (shot) {
        if (typeof stored[shot] === "string" && pickable(cardOf(shot, stored[shot]))) picks[shot] = stored[shot];
      });
    } catch (error) {
      // No storage (or a damaged entry): picks then last as long as the page.
    }
  }
  function savePicks() {
    try {
      localStorage.setItem(storageKey, JSON.stringify(picks));
    } catch (error) {
      // The export still holds them.
    }
  }
  function showPicks() {
    var count = 0;
    cards.forEach(function (card) {
      var on = picks[card.getAttribute("data-shot")] === card.getAttribute("data-job-id");
      card.classList.toggle("picked", on);
      var button = card.querySelector(".pick");
      if (button) {
        button.setAttribute("aria-pressed", String(on));
        button.textContent = on ? "\u2713 picked" : "pick";
      }
      if (on) count += 1;
    });
    pickCount.textContent = count + " of " + sections.length + " shots picked";
    exportButton.disabled = count === 0;
  }
  function togglePick(card) {
    if (!pickable(card)) return;
    var shot = card.getAttribute("data-shot");
    var job = card.getAttribute("data-job-id");
    if (picks[shot] === job) delete picks[shot];
    else picks[shot] = job;
    savePicks();
    showPicks();
  }
  // JSON scalars are YAML flow scalars: any id or value survives the trip as is.
  var scalar = function (value) { return JSON.stringify(value); };
  function picksYaml() {
    var lines = [];
    sections.forEach(function (section) {
      var shot = section.getAttribute("data-shot");
      var card = picks[shot] === undefined ? undefined : cardOf(shot, picks[shot]);
      if (!card) return;
      lines.push("  " + scalar(shot) + ":");
      lines.push("    job: " + scalar(card.getAttribute("data-job-id")));
      lines.push("    seed: " + scalar(Number(card.getAttribute("data-seed"))));
      var sweep = JSON.parse(card.getAttribute("data-sweep") || "null");
      if (sweep) {
        lines.push("    sweep:");
        Object.keys(sweep).forEach(function (key) { lines.push("      " + scalar(key) + ": " + scalar(sweep[key])); });
      }
      var take = card.getAttribute("data-take");
      if (take) lines.push("    take: " + scalar(Number(take)));
    });
    return ["run: " + scalar(runId), lines.length === 0 ? "picks: {}" : "picks:"].concat(lines).join("\n") + "\n";
  }
  exportButton.addEventListener("click", function () {
    var url = URL.createObjectURL(new Blob([picksYaml()], { type: "application/yaml" }));
    var link = document.createElement("a");
    link.href = url;
    link.download = "picks.yaml";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  });

  function cardsIn(shot) { return sections[shot] ? all(sections[shot], ".card") : []; }
  function currentCard() { return cardsIn(focus.shot)[focus.variant]; }
  function setFocus(shot, variant, scroll) {
    if (sections.length === 0) return;
    var nextShot = Math.max(0, Math.min(sections.length - 1, shot));
    var inShot = cardsIn(nextShot);
    var nextVariant = Math.max(0, Math.min(inShot.length - 1, variant));
    var changedShot = nextShot !== focus.shot;
    focus = { shot: nextShot, variant: nextVariant };
    sections.forEach(function (section, i) { section.classList.toggle("current", i === nextShot); });
    cards.forEach(function (card) {
      card.classList.remove("focused");
      card.removeAttribute("aria-current");
    });
    var card = inShot[nextVariant];
    if (!card) return;
    card.classList.add("focused");
    card.setAttribute("aria-current", "true");
    if (!scroll) return;
    if (changedShot) sections[nextShot].scrollIntoView({ block: "start" });
    card.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
  function moveShot(step) {
    var shot = Math.max(0, Math.min(sections.length - 1, focus.shot + step));
    var picked = cardsIn(shot).map(function (card) { return card.getAttribute("data-job-id"); })
      .indexOf(picks[sections[shot].getAttribute("data-shot")]);
    setFocus(shot, picked < 0 ? 0 : picked, true);
  }

  cards.forEach(function (card) {
    var pick = card.querySelector(".pick");
    if (pick) pick.addEventListener("click", function () { togglePick(card); });
    var sound = card.querySelector(".sound");
    if (sound) sound.addEventListener("click", function () { setSound(card); });
    card.addEventListener("click", function () {
      var shot = sections.indexOf(card.closest("section.shot"));
      setFocus(shot, cardsIn(shot).indexOf(card), false);
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" && (event.key === " " || event.key.indexOf("Arrow") === 0)) return;
    if (tag === "TEXTAREA" || tag === "SELECT") return;
    switch (event.key) {
      case "j": case "ArrowDown": moveShot(1); break;
      case "k": case "ArrowUp": moveShot(-1); break;
      case "l": case "ArrowRight": setFocus(focus.shot, focus.variant + 1, true); break;
      case "h": case "ArrowLeft": setFocus(focus.shot, focus.variant - 1, true); break;
      case " ": if (players[focus.shot]) players[focus.shot].toggle(); break;
      case "p": togglePick(currentCard()); break;
      case "a": setSound(currentCard()); break;
      default: return;
    }
    event.preventDefault();
  });
  // Space is ours: a focused button would otherwise click on its release.
  document.addEventListener("keyup", function (event) {
    if (event.key === " " && event.target && event.target.tagName === "BUTTON") event.preventDefault();
  });

  readPicks();
  showPicks();
  setFocus(0, 0, false);
})();
`

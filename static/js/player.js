// The lesson player. HLS plays through hls.js where it runs (Media Source
// Extensions; its levels make the quality menu) and through the browser's
// own HLS elsewhere (iPhone Safari). Without this script the <video> keeps
// its native controls; with it, a control bar with a seek bar that shows
// what is buffered and what the learner has watched, speed (remembered per
// learner on the server), quality, captions, volume, picture-in-picture,
// fullscreen and keyboard shortcuts. Watch events go to the server in
// batches: a heartbeat every 10 s while playing, sent every 30 s and at
// every pause, seek and end, and with sendBeacon when the page is hidden or
// closed. Runs again when htmx swaps the video box in (a video that just
// finished transcoding).
(() => {
  const RATES = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
  const HEARTBEAT_MS = 10000;
  const FLUSH_EVERY = 3;
  const clock = (s) => {
    const t = Math.max(0, Math.floor(s || 0));
    const h = Math.floor(t / 3600);
    const m = Math.floor((t % 3600) / 60);
    const sec = String(t % 60).padStart(2, "0");
    return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
  };

  const start = () => {
    const video = document.getElementById("player");
    if (!video || video.dataset.started) return;
    video.dataset.started = "1";
    const box = video.closest("[data-player]");
    const bar = box.querySelector("[data-player-bar]");
    const status = box.querySelector("[data-player-status]");
    const resumeAt = Number(video.dataset.resumeAt || 0);
    const knownDuration = Number(video.dataset.duration || 0);
    // Set once the control bar is up (events below call them before).
    let paint = () => {};
    let rateSelect = null;
    const say = (text) => {
      if (status) status.textContent = text;
    };

    // --- source ---
    const src = video.dataset.hlsSrc;
    // hls.js wherever it runs (its levels feed the quality menu); the
    // browser's own HLS where it does not (iPhone Safari).
    let hls = null;
    if (window.Hls && window.Hls.isSupported()) {
      // Same-origin requests carry the session cookie; a segment's redirect
      // to S3 needs none (the address is signed). The only other origin a
      // playlist of ours names is the CDN, which reads the signed cookies the
      // master playlist set for the video's folder: send them there.
      hls = new window.Hls({
        enableWorker: false,
        startPosition: resumeAt,
        xhrSetup: (xhr, url) => {
          if (new URL(url, location.href).origin !== location.origin) xhr.withCredentials = true;
        },
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      // A lesson left open for hours outlives the CDN's cookies: fetching the
      // master playlist again signs new ones. Once a minute at the most.
      let reloadedAt = 0;
      hls.on(window.Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal || data.type !== window.Hls.ErrorTypes.NETWORK_ERROR) return;
        if (Date.now() - reloadedAt < 60_000) return;
        reloadedAt = Date.now();
        const at = video.currentTime;
        hls.loadSource(src);
        hls.startLoad(at);
      });
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src;
    }
    let resumed = false;
    video.addEventListener("loadedmetadata", () => {
      if (!resumed && resumeAt > 0 && video.currentTime < resumeAt - 1) video.currentTime = resumeAt;
      resumed = true;
    });
    const rate = Number(video.dataset.rate || 1);
    video.defaultPlaybackRate = rate;
    video.playbackRate = rate;

    // --- watched ranges (from the server, extended as the learner watches) ---
    const watched = (video.dataset.watched || "")
      .split(" ")
      .filter(Boolean)
      .map((pair) => pair.split("-").map(Number));
    const addWatched = (a, b) => {
      if (!(b > a)) return;
      watched.push([a, b]);
      watched.sort((x, y) => x[0] - y[0]);
      const merged = [];
      for (const [s, e] of watched) {
        const last = merged[merged.length - 1];
        if (last && s <= last[1] + 0.5) last[1] = Math.max(last[1], e);
        else merged.push([s, e]);
      }
      watched.splice(0, watched.length, ...merged);
    };

    // --- watch events ---
    const url = video.dataset.eventsUrl;
    const csrf = video.dataset.csrf;
    const session = video.dataset.watchSession;
    const queue = [];
    let lastTime = resumeAt;
    let beats = 0;
    // Each event is numbered in this page's watch session and, when the
    // video played up to it, says where that stretch began (`since`): the
    // server credits each claim on its own, so batches may arrive in any
    // order (a beacon after a later fetch) and a repeat counts once.
    let seq = 0;
    let since = null;
    const duration = () =>
      Number.isFinite(video.duration) && video.duration > 0 ? video.duration : knownDuration;
    const clamp = (t) => Math.min(Math.max(0, t), duration());
    const push = (type, extra = {}) => {
      if (!url || !(duration() > 0)) return;
      const position = clamp(video.currentTime);
      const event = { type, position, duration: duration(), rate: video.playbackRate, seq: ++seq, ...extra };
      if (since !== null && type !== "play") event.since = since;
      queue.push(event);
      // The next stretch starts here while playing; a seek starts it at
      // the seek's target.
      since = video.paused || video.ended || type === "pause" || type === "ended" ? null : position;
    };
    const payload = () => JSON.stringify({ session, events: queue.splice(0) });
    const done = (reply) => {
      if (!reply || !reply.completed) return;
      const badge = document.querySelector("[data-topic-complete]");
      if (badge && badge.hidden) {
        badge.hidden = false;
        say("이 토픽을 완료했습니다.");
      }
      const topic = document.querySelector("[data-topic]");
      const item = topic && document.querySelector(`[data-outline-topic="${topic.dataset.topic}"]`);
      if (item && !item.hasAttribute("data-done")) {
        item.setAttribute("data-done", "");
        const tick = item.querySelector(".outline-tick");
        if (tick) tick.textContent = "✔";
      }
    };
    const flush = () => {
      if (!url || queue.length === 0) return Promise.resolve();
      const body = payload();
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body,
      })
        .then((r) => (r.ok ? r.json() : null))
        .then(done)
        .catch(() => {});
    };
    const beacon = () => {
      if (!url || queue.length === 0) return;
      const body = payload();
      const sent =
        navigator.sendBeacon &&
        navigator.sendBeacon(`${url}?csrf_token=${encodeURIComponent(csrf)}`, new Blob([body], { type: "text/plain" }));
      if (!sent) {
        fetch(url, {
          method: "POST",
          credentials: "same-origin",
          keepalive: true,
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body,
        }).catch(() => {});
      }
    };
    let timer = null;
    video.addEventListener("play", () => {
      push("play");
      clearInterval(timer);
      timer = setInterval(() => {
        push("heartbeat");
        beats += 1;
        if (beats % FLUSH_EVERY === 0) flush();
      }, HEARTBEAT_MS);
    });
    video.addEventListener("pause", () => {
      clearInterval(timer);
      if (!video.ended) {
        push("pause");
        flush();
      }
    });
    video.addEventListener("seeking", () => {
      push("seek", { from: lastTime });
    });
    video.addEventListener("seeked", () => {
      lastTime = video.currentTime;
      if (video.paused) flush();
    });
    video.addEventListener("ratechange", () => {
      push("ratechange");
      if (rateSelect) rateSelect.value = String(video.playbackRate);
    });
    video.addEventListener("timeupdate", () => {
      if (!video.seeking && !video.paused && video.currentTime > lastTime && video.currentTime - lastTime < 2) {
        addWatched(lastTime, video.currentTime);
      }
      if (!video.seeking) lastTime = video.currentTime;
      paint();
    });
    video.addEventListener("ended", () => {
      clearInterval(timer);
      push("ended");
      flush().then(() => {
        const next = document.querySelector("[data-next]");
        const auto = document.querySelector("[data-auto-advance]");
        if (next && auto && auto.checked) {
          say("다음 토픽으로 이동합니다.");
          setTimeout(() => {
            window.location.href = next.href;
          }, 1500);
        }
      });
    });
    // One beacon per departure: hiding the page (closing the tab, switching
    // apps) sends what is queued with where the player is; the pagehide that
    // follows a close sends nothing more unless events came after.
    let departed = false;
    const depart = () => {
      if (departed && queue.length === 0) return;
      departed = true;
      if (!video.paused) push("heartbeat");
      beacon();
    };
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") depart();
      else departed = false;
    });
    window.addEventListener("pagehide", depart);

    // --- auto-advance preference (this browser) ---
    const auto = document.querySelector("[data-auto-advance]");
    if (auto) {
      auto.checked = localStorage.getItem("weaverse.autoAdvance") === "1";
      auto.addEventListener("change", () => localStorage.setItem("weaverse.autoAdvance", auto.checked ? "1" : "0"));
    }

    // --- notes: written at the current moment; a note's time seeks there ---
    document.addEventListener("submit", (e) => {
      const form = e.target.closest && e.target.closest("[data-note-form]");
      if (form) form.querySelector("[data-note-position]").value = video.currentTime.toFixed(1);
    }, true);
    document.addEventListener("click", (e) => {
      const link = e.target.closest && e.target.closest("[data-seek-to]");
      if (!link) return;
      e.preventDefault();
      video.currentTime = Number(link.dataset.seekTo);
      video.focus();
    });

    if (!bar) return;
    // --- the control bar replaces the native controls ---
    video.controls = false;
    bar.hidden = false;
    const seek = bar.querySelector("[data-seek]");
    const canvas = bar.querySelector("[data-ranges]");
    const time = bar.querySelector("[data-time]");
    const playButton = bar.querySelector('[data-action="play"]');
    const playIcon = playButton.querySelector("[data-icon-play]");
    const pauseIcon = playButton.querySelector("[data-icon-pause]");
    rateSelect = bar.querySelector("[data-rate-select]");
    const captionsButton = bar.querySelector('[data-action="captions"]');
    const muteButton = bar.querySelector('[data-action="mute"]');
    const volume = bar.querySelector("[data-volume]");
    const pipButton = bar.querySelector('[data-action="pip"]');
    const fullButton = bar.querySelector('[data-action="fullscreen"]');
    rateSelect.value = String(rate);

    paint = () => {
      const d = duration();
      if (!(d > 0)) return;
      if (document.activeElement !== seek) seek.value = String(video.currentTime);
      seek.max = String(d);
      time.textContent = `${clock(video.currentTime)} / ${clock(d)}`;
      const width = (canvas.width = canvas.clientWidth * (window.devicePixelRatio || 1));
      const height = (canvas.height = canvas.clientHeight * (window.devicePixelRatio || 1));
      const g = canvas.getContext("2d");
      g.clearRect(0, 0, width, height);
      g.fillStyle = "rgba(255,255,255,0.25)";
      g.fillRect(0, 0, width, height);
      g.fillStyle = "rgba(255,255,255,0.45)";
      for (let i = 0; i < video.buffered.length; i += 1) {
        const a = video.buffered.start(i) / d;
        const b = video.buffered.end(i) / d;
        g.fillRect(a * width, 0, (b - a) * width, height);
      }
      g.fillStyle = "#f5b301";
      for (const [a, b] of watched) g.fillRect((a / d) * width, 0, ((b - a) / d) * width, height);
    };
    const playing = () => {
      const on = !video.paused;
      playIcon.toggleAttribute("hidden", on);
      pauseIcon.toggleAttribute("hidden", !on);
      playButton.setAttribute("aria-label", on ? "일시정지" : "재생");
    };
    const toggle = () => (video.paused ? video.play() : video.pause());
    const track = () => video.textTracks && video.textTracks[0];
    const setCaptions = (on) => {
      const t = track();
      if (!t) return;
      t.mode = on ? "showing" : "hidden";
      if (captionsButton) captionsButton.setAttribute("aria-pressed", String(on));
      say(on ? "자막을 켰습니다." : "자막을 껐습니다.");
    };
    const setRate = (step) => {
      const at = RATES.indexOf(video.playbackRate);
      const next = RATES[Math.min(RATES.length - 1, Math.max(0, (at < 0 ? 2 : at) + step))];
      video.playbackRate = next;
      say(`재생 속도 ${next}배`);
    };
    const fullscreen = () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else if (box.requestFullscreen) box.requestFullscreen();
    };
    const mute = () => {
      video.muted = !video.muted;
    };

    video.addEventListener("play", playing);
    video.addEventListener("pause", playing);
    video.addEventListener("progress", paint);
    video.addEventListener("loadedmetadata", paint);
    video.addEventListener("volumechange", () => {
      muteButton.setAttribute("aria-pressed", String(video.muted));
      muteButton.setAttribute("aria-label", video.muted ? "음소거 해제" : "음소거");
      if (document.activeElement !== volume) volume.value = String(video.muted ? 0 : video.volume);
    });
    video.addEventListener("click", toggle);
    playButton.addEventListener("click", toggle);
    seek.addEventListener("input", () => {
      video.currentTime = Number(seek.value);
    });
    rateSelect.addEventListener("change", () => {
      video.playbackRate = Number(rateSelect.value);
    });
    // Quality: "자동" lets hls.js choose; a rendition ("720p") holds that
    // height. The browser's own HLS (iPhone Safari) chooses by itself: no menu.
    const qualitySelect = bar.querySelector("[data-quality-select]");
    if (qualitySelect && hls) {
      const levelOf = (name) => hls.levels.findIndex((l) => `${l.height}p` === name);
      const showMenu = () => {
        qualitySelect.hidden = false;
        for (const option of qualitySelect.options) {
          if (option.value !== "auto" && levelOf(option.value) < 0) option.remove();
        }
      };
      if (hls.levels && hls.levels.length) showMenu();
      else hls.on(window.Hls.Events.MANIFEST_PARSED, showMenu);
      qualitySelect.addEventListener("change", () => {
        const name = qualitySelect.value;
        hls.currentLevel = name === "auto" ? -1 : levelOf(name);
        say(name === "auto" ? "화질 자동" : `화질 ${name}`);
      });
    }
    if (captionsButton) {
      captionsButton.addEventListener("click", () => setCaptions(!(track() && track().mode === "showing")));
    }
    muteButton.addEventListener("click", mute);
    volume.addEventListener("input", () => {
      video.volume = Number(volume.value);
      video.muted = video.volume === 0;
    });
    if (document.pictureInPictureEnabled && pipButton) {
      pipButton.hidden = false;
      pipButton.addEventListener("click", () => {
        if (document.pictureInPictureElement) document.exitPictureInPicture();
        else video.requestPictureInPicture().catch(() => {});
      });
    }
    fullButton.addEventListener("click", fullscreen);
    window.addEventListener("resize", paint);

    // Shortcuts anywhere on the page, except while typing.
    document.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const el = e.target;
      if (el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) && el !== seek) return;
      if (el && el.tagName === "BUTTON" && (e.key === " " || e.key === "Enter")) return;
      const actions = {
        " ": toggle,
        k: toggle,
        ArrowLeft: () => (video.currentTime = Math.max(0, video.currentTime - 5)),
        ArrowRight: () => (video.currentTime = Math.min(duration(), video.currentTime + 5)),
        ArrowUp: () => (video.volume = Math.min(1, video.volume + 0.1)),
        ArrowDown: () => (video.volume = Math.max(0, video.volume - 0.1)),
        f: fullscreen,
        c: () => setCaptions(!(track() && track().mode === "showing")),
        m: mute,
        "<": () => setRate(-1),
        ">": () => setRate(1),
      };
      const action = actions[e.key.length === 1 && e.key !== " " ? e.key.toLowerCase() : e.key] || actions[e.key];
      if (!action) return;
      if (el === seek && e.key.startsWith("Arrow")) return;
      e.preventDefault();
      action();
    });
    playing();
    paint();
  };
  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:afterSwap", start);
})();

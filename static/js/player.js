// The lesson player: HLS through the browser where it plays it natively
// (Safari), through hls.js elsewhere. Runs again when htmx swaps the video
// box in (a video that just finished transcoding).
(() => {
  const start = () => {
    const video = document.getElementById("player");
    if (!video || video.dataset.started) return;
    video.dataset.started = "1";
    const src = video.dataset.src;
    if (window.Hls && window.Hls.isSupported()) {
      // Same-origin requests carry the session cookie; a segment's redirect to
      // S3 needs none (the address is signed).
      const hls = new window.Hls({ enableWorker: false });
      hls.loadSource(src);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src;
    }
  };
  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:afterSwap", start);
})();

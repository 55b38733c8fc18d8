//! HLS with adaptive bitrate: one ffmpeg run makes every rendition up to the
//! source's height (360p, 720p, 1080p), H.264 + AAC in 4-second MPEG-TS
//! segments, with a master playlist; a second run takes the poster frame.

use std::{path::Path, process::Stdio, time::Duration};

use anyhow::Context;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::Command,
};

use super::probe::{VideoInfo, file_url};

/// Segment length in seconds (keyframes are forced on this grid).
pub const SEGMENT_SECS: u32 = 4;

/// One step of the ladder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendition {
    pub name: String,
    pub height: i32,
    pub video_kbps: u32,
    pub audio_kbps: u32,
}

const LADDER: &[(i32, u32, u32)] = &[(360, 800, 96), (720, 2800, 128), (1080, 5000, 160)];

/// The renditions for a source `height` pixels tall: every ladder step up
/// to it, or one at the source's own height when it is below the first.
pub fn ladder(height: i32) -> Vec<Rendition> {
    let steps: Vec<Rendition> = LADDER
        .iter()
        .filter(|(h, _, _)| *h <= height)
        .map(|&(h, v, a)| Rendition {
            name: format!("{h}p"),
            height: h,
            video_kbps: v,
            audio_kbps: a,
        })
        .collect();
    if steps.is_empty() {
        let h = (height / 2 * 2).max(16);
        return vec![Rendition {
            name: format!("{h}p"),
            height: h,
            video_kbps: 500,
            audio_kbps: 96,
        }];
    }
    steps
}

/// The ffmpeg arguments turning `source` into HLS in `out`.
pub fn hls_args(
    source: &Path,
    info: &VideoInfo,
    renditions: &[Rendition],
    out: &Path,
    preset: &str,
) -> Vec<String> {
    let n = renditions.len();
    let mut filter = if n == 1 {
        String::from("[0:v]null[s0];")
    } else {
        let outs: String = (0..n).map(|i| format!("[s{i}]")).collect();
        format!("[0:v]split={n}{outs};")
    };
    for (i, r) in renditions.iter().enumerate() {
        filter.push_str(&format!(
            "[s{i}]scale=-2:{},format=yuv420p[v{i}]{}",
            r.height,
            if i + 1 < n { ";" } else { "" }
        ));
    }
    let mut args: Vec<String> = [
        "-hide_banner",
        "-nostdin",
        "-y",
        "-loglevel",
        "error",
        "-nostats",
        "-progress",
        "pipe:1",
        "-protocol_whitelist",
        "file",
        "-f",
        info.container.demuxer(),
        "-i",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(file_url(source));
    args.extend(["-filter_complex".into(), filter]);
    for i in 0..n {
        args.extend(["-map".into(), format!("[v{i}]")]);
        if info.has_audio {
            args.extend(["-map".into(), "0:a:0".into()]);
        }
    }
    args.extend(
        [
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-profile:v",
            "main",
            "-sc_threshold",
            "0",
            "-force_key_frames",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    args.push(format!("expr:gte(t,n_forced*{SEGMENT_SECS})"));
    for (i, r) in renditions.iter().enumerate() {
        args.extend([
            format!("-b:v:{i}"),
            format!("{}k", r.video_kbps),
            format!("-maxrate:v:{i}"),
            format!("{}k", r.video_kbps * 107 / 100),
            format!("-bufsize:v:{i}"),
            format!("{}k", r.video_kbps * 3 / 2),
        ]);
        if info.has_audio {
            args.extend([format!("-b:a:{i}"), format!("{}k", r.audio_kbps)]);
        }
    }
    if info.has_audio {
        args.extend(["-c:a", "aac", "-ac", "2", "-ar", "48000"].map(String::from));
    }
    let map: Vec<String> = renditions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if info.has_audio {
                format!("v:{i},a:{i},name:{}", r.name)
            } else {
                format!("v:{i},name:{}", r.name)
            }
        })
        .collect();
    args.extend([
        "-f".into(),
        "hls".into(),
        "-hls_time".into(),
        SEGMENT_SECS.to_string(),
        "-hls_playlist_type".into(),
        "vod".into(),
        "-hls_flags".into(),
        "independent_segments".into(),
        "-hls_segment_type".into(),
        "mpegts".into(),
        "-hls_segment_filename".into(),
        out.join("%v/seg_%03d.ts").display().to_string(),
        "-master_pl_name".into(),
        "master.m3u8".into(),
        "-var_stream_map".into(),
        map.join(" "),
        out.join("%v/index.m3u8").display().to_string(),
    ]);
    args
}

/// Runs ffmpeg for HLS, calling `progress` with 0-99 as it goes.
pub async fn to_hls(
    source: &Path,
    info: &VideoInfo,
    renditions: &[Rendition],
    out: &Path,
    preset: &str,
    mut progress: impl FnMut(u8),
) -> anyhow::Result<()> {
    for r in renditions {
        tokio::fs::create_dir_all(out.join(&r.name)).await?;
    }
    // At a lower priority: a transcode takes whatever CPU is left over, so
    // pages, mail and grading on the same machine stay quick (`nice` execs
    // ffmpeg, so killing the child still stops it).
    let mut child = Command::new("nice")
        .args(["-n", "10", "ffmpeg"])
        .args(hls_args(source, info, renditions, out, preset))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting ffmpeg")?;
    let stdout = child.stdout.take().context("ffmpeg stdout")?;
    let mut stderr = child.stderr.take().context("ffmpeg stderr")?;
    let errors = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = (&mut stderr).take(64 * 1024).read_to_end(&mut buf).await;
        String::from_utf8_lossy(&buf).into_owned()
    });
    let total_us = (info.duration_ms.max(1) as f64) * 1000.0;
    let mut lines = BufReader::new(stdout).lines();
    while let Some(line) = lines.next_line().await? {
        if let Some(us) = line.strip_prefix("out_time_us=")
            && let Ok(us) = us.trim().parse::<f64>()
        {
            progress(((us / total_us) * 100.0).clamp(0.0, 99.0) as u8);
        }
    }
    let status = child.wait().await?;
    let errors = errors.await.unwrap_or_default();
    anyhow::ensure!(
        status.success(),
        "ffmpeg could not transcode ({status}): {}",
        last_line(&errors)
    );
    Ok(())
}

/// A JPEG frame a little way into the video, at most 720 pixels tall.
pub async fn poster(source: &Path, info: &VideoInfo, out: &Path) -> anyhow::Result<()> {
    let at = (info.duration_ms as f64 / 1000.0 / 3.0).min(2.0);
    let height = info.height.min(720);
    let run = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-y", "-loglevel", "error"])
        .args(["-protocol_whitelist", "file", "-ss", &format!("{at:.2}")])
        .args(["-f", info.container.demuxer(), "-i"])
        .arg(file_url(source))
        .args([
            "-frames:v",
            "1",
            "-vf",
            &format!("scale=-2:{height}"),
            "-q:v",
            "3",
        ])
        .arg(out)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .context("poster frame took too long")??;
    anyhow::ensure!(
        output.status.success(),
        "ffmpeg could not take a poster frame: {}",
        last_line(&String::from_utf8_lossy(&output.stderr))
    );
    Ok(())
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_goes_up_to_the_source_and_never_above() {
        let names = |h| ladder(h).into_iter().map(|r| r.name).collect::<Vec<_>>();
        assert_eq!(names(1080), ["360p", "720p", "1080p"]);
        assert_eq!(names(720), ["360p", "720p"]);
        assert_eq!(names(2160), ["360p", "720p", "1080p"]);
        assert_eq!(names(241), ["240p"]);
    }
}

//! Watch events and what they add up to, as pure rules (no clock, no SQL):
//! which batches a player may send, which seconds of a video they prove were
//! watched, and where a learner resumes.
//!
//! Every event stands alone. It carries its number in the page's watch
//! session (`seq`) and, when the player played up to it, where that stretch
//! began (`since`): a claim `[since, position]` (for a seek, up to where the
//! seek began). Claims are credited into merged intervals, so the result is
//! the same whatever order batches arrive in, and an event sent twice is
//! stored once (by its number). What claims may credit is bounded by the
//! learner's real time (the caller's allowance: wall-clock seconds since the
//! lesson page was handed out, less the study time credited since, across
//! all topics), so a script that reports the end of a video at once earns
//! nothing, and many topics at once share one clock.

use serde::{Deserialize, Serialize};

crate::text_enum!(
    /// What happened in the player.
    EventKind {
        Play => "play",
        Pause => "pause",
        Seek => "seek",
        Heartbeat => "heartbeat",
        Ended => "ended",
        RateChange => "ratechange",
    }
);

/// The slowest and fastest playback the player offers.
pub const MIN_RATE: f64 = 0.5;
pub const MAX_RATE: f64 = 2.0;
/// How far past the video's end a position may be (players round).
pub const SLACK_SECS: f64 = 2.0;
/// The most events one batch may carry.
pub const MAX_BATCH: usize = 60;
/// A step longer than this between two events is a seek the player did not
/// report (background tabs send a heartbeat at least every minute).
pub const MAX_STEP_SECS: f64 = 130.0;
/// Intervals closer than this are one (heartbeats are sampled).
const JOIN_SECS: f64 = 0.5;

/// One event as a player sends it (`POST /learn/topics/{id}/events`).
#[derive(Debug, Deserialize)]
pub struct RawEvent {
    #[serde(rename = "type")]
    pub kind: String,
    pub position: f64,
    pub duration: f64,
    /// The playback rate (required for `ratechange`).
    #[serde(default)]
    pub rate: Option<f64>,
    /// Where a seek started.
    #[serde(default)]
    pub from: Option<f64>,
    /// The event's number in its watch session.
    #[serde(default)]
    pub seq: Option<i32>,
    /// Where the stretch played up to this event began.
    #[serde(default)]
    pub since: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub struct RawBatch {
    /// The lesson page's signed watch session.
    #[serde(default)]
    pub session: Option<String>,
    pub events: Vec<RawEvent>,
}

/// A checked event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    pub position: f64,
    pub duration: f64,
    pub rate: Option<f64>,
    pub from: Option<f64>,
    pub seq: Option<i32>,
    pub since: Option<f64>,
}

/// Why a batch was refused (nothing of it is kept). `usize` is the event's
/// index in the batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no events")]
    Empty,
    #[error("more than {MAX_BATCH} events")]
    TooMany,
    #[error("event {0}: unknown type")]
    Kind(usize),
    #[error("event {0}: position outside the video")]
    Position(usize),
    #[error("event {0}: duration does not match the video")]
    Duration(usize),
    #[error("event {0}: playback rate outside 0.5-2")]
    Rate(usize),
    #[error("event {0}: negative number")]
    Sequence(usize),
}

impl RawBatch {
    /// Checks every event against the video's real length (`video_secs`,
    /// from the server, never from the player).
    pub fn check(self, video_secs: f64) -> Result<Vec<Event>, Refusal> {
        if self.events.is_empty() {
            return Err(Refusal::Empty);
        }
        if self.events.len() > MAX_BATCH {
            return Err(Refusal::TooMany);
        }
        let within = |s: f64| s.is_finite() && (0.0..=video_secs + SLACK_SECS).contains(&s);
        self.events
            .into_iter()
            .enumerate()
            .map(|(i, raw)| {
                let kind = EventKind::parse(&raw.kind).ok_or(Refusal::Kind(i))?;
                if raw.seq.is_some_and(|seq| seq < 0) {
                    return Err(Refusal::Sequence(i));
                }
                if !within(raw.position)
                    || !raw.from.is_none_or(within)
                    || !raw.since.is_none_or(within)
                {
                    return Err(Refusal::Position(i));
                }
                if !within(raw.duration) || raw.duration <= 0.0 {
                    return Err(Refusal::Duration(i));
                }
                let rate_ok = |r: f64| (MIN_RATE..=MAX_RATE).contains(&r);
                if !raw.rate.is_none_or(rate_ok)
                    || (kind == EventKind::RateChange && raw.rate.is_none())
                {
                    return Err(Refusal::Rate(i));
                }
                Ok(Event {
                    kind,
                    position: raw.position,
                    duration: raw.duration,
                    rate: raw.rate,
                    from: raw.from,
                    seq: raw.seq,
                    since: raw.since,
                })
            })
            .collect()
    }
}

/// Seconds of a video watched, as sorted disjoint `[start, end]` intervals:
/// watching a part twice counts it once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Intervals(Vec<(f64, f64)>);

impl Intervals {
    /// Adds `[start, end]`, merging it with every interval it touches.
    pub fn add(&mut self, start: f64, end: f64) {
        // NaN or an empty interval adds nothing.
        if end.partial_cmp(&start) != Some(std::cmp::Ordering::Greater) {
            return;
        }
        let (mut start, mut end) = (start, end);
        let mut kept = Vec::with_capacity(self.0.len() + 1);
        let mut placed = false;
        for &(s, e) in &self.0 {
            if e + JOIN_SECS < start {
                kept.push((s, e));
            } else if s - JOIN_SECS > end {
                if !placed {
                    kept.push((start, end));
                    placed = true;
                }
                kept.push((s, e));
            } else {
                start = start.min(s);
                end = end.max(e);
            }
        }
        if !placed {
            kept.push((start, end));
        }
        self.0 = kept;
    }

    /// Unique seconds watched.
    pub fn total(&self) -> f64 {
        self.0.iter().map(|(s, e)| e - s).sum()
    }

    pub fn spans(&self) -> &[(f64, f64)] {
        &self.0
    }
}

/// What one event was credited.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Credit {
    /// Where the credited seconds start in the video.
    pub from: f64,
    /// Seconds of the video.
    pub watched: f64,
    /// Real seconds spent watching them (`watched / rate`).
    pub study: f64,
}

/// The stretch of the video an event says was played up to it:
/// `[since, end]`, `end` being where a seek began or the event's position.
/// A stretch longer than [`MAX_STEP_SECS`] (players report more often) or
/// going backwards claims nothing.
pub fn claim(e: &Event) -> Option<(f64, f64)> {
    if e.kind == EventKind::Play {
        return None;
    }
    let start = e.since?;
    let end = match e.kind {
        EventKind::Seek => e.from?,
        _ => e.position,
    };
    let step = end - start;
    (step > 0.0 && step <= MAX_STEP_SECS).then_some((start, end))
}

/// Credits the claims of `events`, in their order, into `watched`,
/// spending at most `allowance` real seconds (a claim at rate r costs its
/// length / r); returns each event's credit.
pub fn credit(events: &[Event], watched: &mut Intervals, mut allowance: f64) -> Vec<Credit> {
    events
        .iter()
        .map(|e| {
            let Some((start, end)) = claim(e) else {
                return Credit::default();
            };
            let rate = e.rate.unwrap_or(1.0).clamp(MIN_RATE, MAX_RATE);
            let study = ((end - start) / rate).min(allowance.max(0.0));
            if study <= 0.0 {
                return Credit::default();
            }
            allowance -= study;
            let secs = study * rate;
            watched.add(start, start + secs);
            Credit {
                from: start,
                watched: secs,
                study,
            }
        })
        .collect()
}

/// Whether `watched_secs` of a `video_secs` video completes it at `percent`.
pub fn completes(watched_secs: f64, video_secs: f64, percent: u8) -> bool {
    video_secs > 0.0 && watched_secs >= video_secs * f64::from(percent) / 100.0
}

/// Where the player starts: a few seconds before where the learner left
/// off, or at the start when they had reached the end.
pub fn resume_at(position: f64, video_secs: f64) -> u32 {
    if position <= 0.0 || position >= video_secs - 5.0 {
        0
    } else {
        (position - 3.0).max(0.0).floor() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind, position: f64) -> Event {
        Event {
            kind,
            position,
            duration: 100.0,
            rate: None,
            from: None,
            seq: None,
            since: None,
        }
    }

    fn run(events: &[Event]) -> (Intervals, Vec<Credit>) {
        let mut watched = Intervals::default();
        let credits = credit(events, &mut watched, 1000.0);
        (watched, credits)
    }

    #[test]
    fn overlapping_and_touching_intervals_merge_and_count_once() {
        let mut w = Intervals::default();
        w.add(10.0, 20.0);
        w.add(30.0, 40.0);
        w.add(15.0, 35.0);
        assert_eq!(w.spans(), &[(10.0, 40.0)]);
        w.add(40.2, 50.0); // closer than the join distance
        w.add(0.0, 5.0);
        w.add(70.0, 80.0);
        w.add(60.0, 65.0);
        assert_eq!(
            w.spans(),
            &[(0.0, 5.0), (10.0, 50.0), (60.0, 65.0), (70.0, 80.0)]
        );
        assert!((w.total() - 60.0).abs() < 1e-9);
        w.add(-1.0, 100.0);
        assert_eq!(w.spans(), &[(-1.0, 100.0)]);
        w.add(5.0, 5.0);
        w.add(9.0, 3.0);
        assert_eq!(w.spans(), &[(-1.0, 100.0)]);
    }

    /// An event claiming it played from `since`.
    fn played(kind: EventKind, since: f64, position: f64) -> Event {
        Event {
            since: Some(since),
            ..ev(kind, position)
        }
    }

    #[test]
    fn playing_with_heartbeats_credits_each_claimed_stretch() {
        use EventKind::*;
        let (w, credits) = run(&[
            ev(Play, 0.0),
            played(Heartbeat, 0.0, 10.0),
            played(Heartbeat, 10.0, 20.0),
            played(Pause, 20.0, 25.0),
        ]);
        assert_eq!(w.spans(), &[(0.0, 25.0)]);
        assert_eq!(credits[0], Credit::default());
        assert_eq!(credits[1].watched, 10.0);
        assert_eq!(credits[3].from, 20.0);
        assert_eq!(credits[3].watched, 5.0);
    }

    #[test]
    fn seeking_to_the_end_counts_nothing_past_where_the_seek_started() {
        use EventKind::*;
        let seek = Event {
            from: Some(12.0),
            ..played(Seek, 10.0, 95.0)
        };
        let (w, _) = run(&[
            ev(Play, 0.0),
            played(Heartbeat, 0.0, 10.0),
            seek,
            played(Ended, 95.0, 100.0),
        ]);
        assert_eq!(w.spans(), &[(0.0, 12.0), (95.0, 100.0)]);
        assert!(!completes(w.total(), 100.0, 90));
        // A jump longer than players report, or a claim without a start,
        // credits nothing.
        let (w, _) = run(&[played(Heartbeat, 0.0, 1.0 + MAX_STEP_SECS)]);
        assert_eq!(w.total(), 0.0);
        let (w, _) = run(&[ev(Heartbeat, 10.0), ev(Ended, 100.0)]);
        assert_eq!(w.total(), 0.0);
    }

    #[test]
    fn nothing_counts_backwards_or_for_a_play() {
        use EventKind::*;
        let (w, _) = run(&[played(Heartbeat, 30.0, 20.0), played(Play, 0.0, 10.0)]);
        assert_eq!(w.total(), 0.0);
    }

    #[test]
    fn a_replay_of_a_watched_part_adds_no_unique_seconds_but_study_time() {
        use EventKind::*;
        let back = Event {
            from: Some(40.0),
            ..played(Seek, 20.0, 10.0)
        };
        let (w, credits) = run(&[
            ev(Play, 0.0),
            played(Heartbeat, 0.0, 20.0),
            back,
            played(Heartbeat, 10.0, 30.0),
            played(Heartbeat, 30.0, 50.0),
        ]);
        assert_eq!(w.spans(), &[(0.0, 50.0)]);
        let study: f64 = credits.iter().map(|c| c.study).sum();
        assert_eq!(study, 80.0);
    }

    #[test]
    fn the_allowance_bounds_study_time_and_the_rate_sets_the_seconds() {
        use EventKind::*;
        let fast = |since, position| Event {
            rate: Some(2.0),
            ..played(Heartbeat, since, position)
        };
        let mut w = Intervals::default();
        let credits = credit(&[fast(0.0, 20.0), fast(20.0, 40.0)], &mut w, 15.0);
        // 20 s of video at 2x is 10 s of study; the rest of the 15 s buys
        // 10 more seconds of video.
        assert_eq!(credits[0].study, 10.0);
        assert_eq!(credits[1].study, 5.0);
        assert_eq!(w.spans(), &[(0.0, 30.0)]);
        // No allowance, no credit.
        let mut w = Intervals::default();
        let credits = credit(&[played(Ended, 0.0, 20.0)], &mut w, 0.0);
        assert_eq!((credits[0], w.total()), (Credit::default(), 0.0));
    }

    #[test]
    fn claims_fold_to_the_same_seconds_in_any_order_and_repeated() {
        use EventKind::*;
        let events = [
            played(Heartbeat, 0.0, 10.0),
            played(Heartbeat, 10.0, 20.0),
            played(Pause, 20.0, 24.0),
            played(Heartbeat, 50.0, 60.0),
        ];
        let (expected, _) = run(&events);
        let mut reversed = events.to_vec();
        reversed.reverse();
        reversed.push(events[1]);
        let (w, _) = run(&reversed);
        assert_eq!(w, expected);
    }

    #[test]
    fn completion_is_at_the_configured_share_of_unique_seconds() {
        assert!(completes(90.0, 100.0, 90));
        assert!(!completes(89.9, 100.0, 90));
        assert!(completes(50.0, 100.0, 50));
        assert!(!completes(10.0, 0.0, 90));
    }

    #[test]
    fn resume_is_a_little_before_where_one_left_off_or_the_start() {
        assert_eq!(resume_at(0.0, 100.0), 0);
        assert_eq!(resume_at(2.0, 100.0), 0);
        assert_eq!(resume_at(42.7, 100.0), 39);
        assert_eq!(resume_at(96.0, 100.0), 0);
        assert_eq!(resume_at(100.0, 100.0), 0);
    }

    #[test]
    fn batches_are_checked_against_the_servers_length_of_the_video() {
        let raw = |json: &str| serde_json::from_str::<RawBatch>(json).unwrap();
        let ok = raw(
            r#"{"events":[{"type":"play","position":0,"duration":20},{"type":"ratechange","position":3,"duration":20,"rate":1.5}]}"#,
        );
        assert_eq!(ok.check(20.0).unwrap().len(), 2);
        let cases = [
            (r#"{"events":[]}"#, Refusal::Empty),
            (
                r#"{"events":[{"type":"rewind","position":0,"duration":20}]}"#,
                Refusal::Kind(0),
            ),
            (
                r#"{"events":[{"type":"play","position":-1,"duration":20}]}"#,
                Refusal::Position(0),
            ),
            (
                r#"{"events":[{"type":"play","position":0,"duration":20},{"type":"heartbeat","position":23,"duration":20}]}"#,
                Refusal::Position(1),
            ),
            (
                r#"{"events":[{"type":"seek","position":1,"duration":20,"from":99}]}"#,
                Refusal::Position(0),
            ),
            (
                r#"{"events":[{"type":"pause","position":1,"duration":20,"since":-3}]}"#,
                Refusal::Position(0),
            ),
            (
                r#"{"events":[{"type":"pause","position":1,"duration":20,"seq":-1}]}"#,
                Refusal::Sequence(0),
            ),
            (
                r#"{"events":[{"type":"play","position":0,"duration":500}]}"#,
                Refusal::Duration(0),
            ),
            (
                r#"{"events":[{"type":"play","position":0,"duration":0}]}"#,
                Refusal::Duration(0),
            ),
            (
                r#"{"events":[{"type":"ratechange","position":0,"duration":20}]}"#,
                Refusal::Rate(0),
            ),
            (
                r#"{"events":[{"type":"play","position":0,"duration":20,"rate":16}]}"#,
                Refusal::Rate(0),
            ),
        ];
        for (json, refusal) in cases {
            assert_eq!(raw(json).check(20.0), Err(refusal), "{json}");
        }
        let many = format!(
            r#"{{"events":[{}]}}"#,
            vec![r#"{"type":"heartbeat","position":1,"duration":20}"#; MAX_BATCH + 1].join(",")
        );
        assert_eq!(raw(&many).check(20.0), Err(Refusal::TooMany));
    }
}

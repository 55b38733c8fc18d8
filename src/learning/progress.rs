//! Learning records: watch events folded into progress (under one row lock
//! per learner and topic), completion, resume, course progress, study time,
//! notes. The rules themselves are [`watch`](super::watch).

use std::{collections::HashMap, sync::Arc};

use sqlx::{Acquire, PgConnection};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    accounts, catalog,
    catalog::{CatalogCache, model::Product, service::CourseView},
    config::Config,
    ids::{CourseId, TopicId, UserId},
    learning::Completion,
    learning::{
        mine::{self, Mine},
        repo::{self, EventColumns, Folded, Place},
        session::{self, WatchSession},
        watch::{self, Event, EventKind, Intervals, RawBatch},
    },
    web::{dates::KST, signing::Signer},
};

/// Why a batch of watch events was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Refused(#[from] watch::Refusal),
    #[error("the page's watch session is missing, forged or too old")]
    NoSession,
    #[error("too many batches; wait {0} s")]
    TooMany(u64),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// The completion's listener failed.
    #[error(transparent)]
    Heard(#[from] anyhow::Error),
}

/// What recording a batch left.
#[derive(Clone, Copy, Debug)]
pub struct Recorded {
    pub stored: u64,
    pub watched_secs: f64,
    pub completed: bool,
    /// This batch completed the topic.
    pub newly_completed: bool,
    /// The share of the video watched, in whole percent (0 to 100).
    pub percent: f64,
}

/// The knobs of [`record`] (from the configuration).
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    pub complete_at_percent: u8,
    pub batches_per_minute: i64,
}

impl Rules {
    /// The knobs as this instance is configured.
    pub fn of(config: &Config) -> Self {
        Self {
            complete_at_percent: config.complete_at_percent,
            batches_per_minute: config.limits.watch_batches_per_learner,
        }
    }
}

/// A batch as the player or a program sent it: its watch session verified
/// (signed by this platform for `user` and `topic`), its events checked
/// against the video's real length, then [`record`]ed under the configured
/// rules.
#[allow(clippy::too_many_arguments)]
pub async fn take_batch(
    conn: &mut PgConnection,
    signer: &Signer,
    config: &Config,
    completion: &Completion,
    user: UserId,
    topic: TopicId,
    video_secs: f64,
    batch: RawBatch,
) -> Result<Recorded, WatchError> {
    let now = OffsetDateTime::now_utc();
    let session = batch
        .session
        .as_deref()
        .and_then(|token| session::verify(signer, user, topic, token, now))
        .ok_or(WatchError::NoSession)?;
    let events = batch.check(video_secs)?;
    let rules = Rules::of(config);
    record(
        conn, user, topic, video_secs, session, &events, rules, completion,
    )
    .await
}

/// Records a batch of `session`'s events for `user` watching `topic` (a
/// `video_secs` long video), in one transaction: takes a slot of the
/// learner's batch limit (which also locks the learner: one batch of theirs
/// at a time, across topics), drops events the page already sent, credits
/// the claims within the learner's clock (real seconds since the page was
/// handed out, less the study time credited since on any topic), and
/// stores the events with their credit. Claims add to merged intervals, so
/// batches give the same result in any order. Completion is sticky.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
    video_secs: f64,
    session: WatchSession,
    events: &[Event],
    rules: Rules,
    completion: &Completion,
) -> Result<Recorded, WatchError> {
    // Events without numbers come from a page older than watch sessions.
    let Some(seqs) = events.iter().map(|e| e.seq).collect::<Option<Vec<i32>>>() else {
        return Err(WatchError::NoSession);
    };
    let mut tx = conn.begin().await?;
    let (batches, wait) = repo::take_batch_slot(&mut tx, user).await?;
    if i64::from(batches) > rules.batches_per_minute {
        return Err(WatchError::TooMany(wait.ceil().max(1.0) as u64));
    }
    let row = repo::lock_progress(&mut tx, user, topic).await?;
    // A repeat (the same page's number) is stored and credited once.
    let stored = repo::stored_seqs(&mut tx, user, session.page, &seqs).await?;
    let mut seen = std::collections::HashSet::new();
    let mut events: Vec<Event> = events
        .iter()
        .filter(|e| {
            e.seq
                .is_some_and(|s| !stored.contains(&s) && seen.insert(s))
        })
        .copied()
        .collect();
    events.sort_by_key(|e| e.seq);
    let (spent, now) = repo::study_since(&mut tx, user, session.issued_at).await?;
    let allowance = (now - session.issued_at).as_seconds_f64() - spent;
    let placed_by = row.placed_by();
    let mut watched = row.watched.0;
    let credits = watch::credit(&events, &mut watched, allowance);
    let mut columns = EventColumns::default();
    for (event, credit) in events.iter().zip(credits) {
        columns.push(event, credit);
    }
    let stored = repo::insert_events(&mut tx, user, topic, session.page, &columns).await?;
    let complete = watch::completes(watched.total(), video_secs, rules.complete_at_percent);
    // The resume point moves only to a later event than the one stored.
    let place = events
        .last()
        .and_then(|e| {
            Some(Place {
                position: e.position,
                page: session.page,
                seq: e.seq?,
            })
        })
        .filter(|p| p.is_after(placed_by.as_ref()));
    let was_complete = repo::save_progress(
        &mut tx,
        user,
        topic,
        Folded {
            watched: &watched,
            video_secs,
            place,
            complete: false,
            replayed: false,
        },
    )
    .await?;
    let newly_completed = complete && completion.complete(&mut tx, user, topic).await?;
    if let Some(rate) = events
        .iter()
        .rev()
        .find(|e| e.kind == EventKind::RateChange)
        .and_then(|e| e.rate)
    {
        repo::set_playback_rate(&mut tx, user, rate as f32).await?;
    }
    tx.commit().await?;
    mine::changed(user);
    Ok(Recorded {
        stored,
        watched_secs: watched.total(),
        completed: was_complete || newly_completed,
        newly_completed,
        percent: (watched.total() * 100.0 / video_secs).floor().min(100.0),
    })
}

/// Folds a learner's whole log for a topic again: the union of what each
/// event was credited, except `edited`, whose claim an admin corrected and
/// is credited as it now reads. What an admin's edit or deletion of an
/// event leaves; completion follows the log (it can be taken back here,
/// unlike in [`record`]).
async fn replay(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
    edited: Option<i64>,
    complete_at_percent: u8,
) -> sqlx::Result<()> {
    let row = repo::lock_progress(conn, user, topic).await?;
    let video_secs = match crate::media::ready_video_secs(conn, topic).await? {
        Some(secs) => secs,
        None => row.video_secs.unwrap_or(0.0),
    };
    let log = repo::events_of(conn, user, topic, None).await?;
    let mut watched = Intervals::default();
    for event in &log {
        if Some(event.id) == edited {
            // An admin's correction is credited in full.
            let credit = watch::credit(&[event.event()], &mut watched, f64::INFINITY)
                .pop()
                .unwrap_or_default();
            repo::set_credit(conn, event.id, credit).await?;
        } else if let Some(from) = event.credit_from {
            watched.add(from, from + event.credited);
        }
    }
    let complete = watch::completes(watched.total(), video_secs, complete_at_percent);
    if video_secs > 0.0 {
        repo::save_progress(
            conn,
            user,
            topic,
            Folded {
                watched: &watched,
                video_secs,
                place: None,
                complete,
                replayed: true,
            },
        )
        .await?;
    }
    Ok(())
}

pub use repo::EventRow;

impl EventRow {
    fn event(&self) -> Event {
        Event {
            kind: self.kind,
            position: self.position,
            duration: self.duration,
            rate: Some(f64::from(self.rate)),
            from: self.seek_from,
            seq: None,
            since: self.played_from,
        }
    }
}

/// One learner's progress on one video, for the admins' list.
pub struct WatchSummary {
    pub user_id: UserId,
    pub email: String,
    pub topic_id: TopicId,
    pub topic_title: String,
    pub course_title: String,
    pub percent: i64,
    pub completed: bool,
    pub updated_at: OffsetDateTime,
    pub events: i64,
}

/// The admins' list of learners' progress on videos, latest first;
/// `email` and `topic` filter by a part of the email or the topic's title.
pub async fn watch_summaries(
    conn: &mut PgConnection,
    email: &str,
    topic: &str,
) -> sqlx::Result<Vec<WatchSummary>> {
    let users = match email {
        "" => None,
        part => Some(
            accounts::users_matching(conn, part)
                .await?
                .into_iter()
                .map(|u| u.0)
                .collect::<Vec<_>>(),
        ),
    };
    let topics = match topic {
        "" => None,
        part => Some(
            catalog::topics_titled(conn, part)
                .await?
                .into_iter()
                .map(|t| t.0)
                .collect::<Vec<_>>(),
        ),
    };
    let rows = repo::watch_rows(conn, users.as_deref(), topics.as_deref(), 200).await?;
    let emails =
        accounts::emails_of(conn, &rows.iter().map(|r| r.user_id).collect::<Vec<_>>()).await?;
    let titles =
        catalog::topic_titles(conn, &rows.iter().map(|r| r.topic_id).collect::<Vec<_>>()).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (topic_title, course_title) = titles.get(&r.topic_id).cloned().unwrap_or_default();
            WatchSummary {
                email: emails.get(&r.user_id).cloned().unwrap_or_default(),
                topic_title,
                course_title,
                percent: match r.video_secs {
                    Some(secs) if secs > 0.0 => {
                        (r.watched_secs * 100.0 / secs).floor().min(100.0) as i64
                    }
                    _ => 0,
                },
                completed: r.completed_at.is_some(),
                updated_at: r.updated_at,
                events: r.events,
                user_id: r.user_id,
                topic_id: r.topic_id,
            }
        })
        .collect())
}

pub use super::repo::events_of;

/// A page of [`events_of`]: up to `limit` after `after` (a receipt time
/// and id), and whether more follow.
pub async fn events_after(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
    kind: Option<EventKind>,
    after: Option<(time::OffsetDateTime, crate::ids::WatchEventId)>,
    limit: i64,
) -> sqlx::Result<(Vec<EventRow>, bool)> {
    let after = after.map(|(at, id)| (at, id.0));
    let mut rows = repo::events_after(conn, user, topic, kind, after, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

pub async fn event(
    conn: &mut PgConnection,
    id: crate::ids::WatchEventId,
) -> sqlx::Result<Option<EventRow>> {
    repo::event(conn, id.0).await
}

/// An admin's correction of one event, checked like a player's; the
/// learner's progress on the topic is folded again from the log.
pub async fn edit_event(
    conn: &mut PgConnection,
    id: crate::ids::WatchEventId,
    edited: watch::RawEvent,
    complete_at_percent: u8,
) -> Result<bool, WatchError> {
    let id = id.0;
    let mut tx = conn.begin().await?;
    let Some(row) = repo::event(&mut tx, id).await? else {
        return Ok(false);
    };
    let video_secs = crate::media::ready_video_secs(&mut tx, row.topic_id)
        .await?
        .unwrap_or(row.duration);
    let event = watch::RawBatch {
        session: None,
        events: vec![edited],
    }
    .check(video_secs)?
    .remove(0);
    repo::update_event(&mut tx, id, &event, event.rate.unwrap_or(1.0) as f32).await?;
    replay(
        &mut tx,
        row.user_id,
        row.topic_id,
        Some(id),
        complete_at_percent,
    )
    .await?;
    tx.commit().await?;
    mine::changed(row.user_id);
    Ok(true)
}

/// Deletes one event and folds the learner's progress again; returns whose
/// and which topic's it was.
pub async fn delete_event(
    conn: &mut PgConnection,
    id: crate::ids::WatchEventId,
    complete_at_percent: u8,
) -> sqlx::Result<Option<(UserId, TopicId)>> {
    let id = id.0;
    let mut tx = conn.begin().await?;
    let Some(row) = repo::event(&mut tx, id).await? else {
        return Ok(None);
    };
    // The progress row first: the same lock order as `record`.
    repo::lock_progress(&mut tx, row.user_id, row.topic_id).await?;
    repo::delete_event(&mut tx, id).await?;
    replay(
        &mut tx,
        row.user_id,
        row.topic_id,
        None,
        complete_at_percent,
    )
    .await?;
    tx.commit().await?;
    mine::changed(row.user_id);
    Ok(Some((row.user_id, row.topic_id)))
}

/// Where a learner stands on one topic, for the lesson page.
#[derive(Clone, Debug, Default)]
pub struct TopicProgress {
    pub watched: Intervals,
    pub watched_secs: f64,
    pub position: f64,
    pub completed: bool,
}

impl TopicProgress {
    /// `data-resume-at` for a video `video_secs` long.
    pub fn resume_at(&self, video_secs: f64) -> u32 {
        watch::resume_at(self.position, video_secs)
    }
}

pub async fn topic_progress(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
) -> sqlx::Result<TopicProgress> {
    Ok(repo::progress(conn, user, topic)
        .await?
        .map(|r| TopicProgress {
            watched_secs: r.watched_secs,
            watched: r.watched.0,
            position: r.position,
            completed: r.completed_at.is_some(),
        })
        .unwrap_or_default())
}

/// What the lesson page shows of a learner who may study its topic.
pub struct LessonState {
    pub topic: TopicProgress,
    /// Done, and the share done (0-1), of each outline topic touched.
    pub outline: HashMap<TopicId, (bool, f64)>,
    pub notes: Vec<crate::learning::notes::Note>,
    /// The playback speed they chose last.
    pub rate: f32,
}

impl Default for LessonState {
    /// Nothing watched, done or noted, at normal speed.
    fn default() -> Self {
        Self {
            topic: TopicProgress::default(),
            outline: HashMap::new(),
            notes: Vec::new(),
            rate: 1.0,
        }
    }
}

/// Reads the learner's state for `topic`'s lesson page, with `outline` the
/// course's topics, and marks the topic opened (for "continue learning")
/// when it is not the one they opened last: one statement, two when it
/// marks.
pub async fn lesson_state(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
    outline: &[TopicId],
) -> sqlx::Result<LessonState> {
    let read = Mine::of(user)
        .await
        .part_or_load(
            topic.0,
            |kept: &KeptLesson| kept.outline == outline,
            async {
                let ids: Vec<uuid::Uuid> = outline.iter().map(|t| t.0).collect();
                let row = repo::lesson(conn, user, topic, &ids).await?;
                Ok::<_, sqlx::Error>(KeptLesson {
                    outline: outline.to_vec(),
                    row,
                })
            },
        )
        .await?;
    let row = &read.row;
    // Reloading the lesson they are on writes nothing; opening another
    // marks it (the one write a page view makes).
    if row.latest != Some(topic) {
        opened(conn, user, topic).await?;
    }
    Ok(LessonState {
        topic: TopicProgress {
            watched: row
                .watched
                .as_ref()
                .map(|w| w.0.clone())
                .unwrap_or_default(),
            watched_secs: row.watched_secs.unwrap_or_default(),
            position: row.position.unwrap_or_default(),
            completed: row.completed,
        },
        outline: row
            .outline
            .iter()
            .map(|(topic, done, share)| (*topic, (*done, *share)))
            .collect(),
        notes: row.notes.iter().cloned().map(Into::into).collect(),
        rate: row.rate.unwrap_or(1.0),
    })
}

/// A learner opened a topic: remembered for "continue learning". The one
/// write a page view makes; completing is [`Completion::complete`]'s.
pub async fn opened(conn: &mut PgConnection, user: UserId, topic: TopicId) -> sqlx::Result<()> {
    repo::open_topic(conn, user, topic, false).await?;
    mine::changed(user);
    Ok(())
}

/// Per topic of `topics` the learner has touched: done, and the share done
/// (0-1), as the database has it now (what rules decide on: the refund's
/// content used).
pub async fn topics(
    conn: &mut PgConnection,
    user: UserId,
    topics: &[TopicId],
) -> sqlx::Result<HashMap<TopicId, (bool, f64)>> {
    let ids: Vec<uuid::Uuid> = topics.iter().map(|t| t.0).collect();
    Ok(repo::topics_progress(conn, user, &ids)
        .await?
        .into_iter()
        .map(|(topic, done, share)| (topic, (done, share)))
        .collect())
}

/// [`topics`] as a page shows them: from everything the learner touched,
/// kept until they change something (see [`mine`]). Never for a rule.
pub async fn topics_shown(
    conn: &mut PgConnection,
    user: UserId,
    topics: &[TopicId],
) -> sqlx::Result<HashMap<TopicId, (bool, f64)>> {
    let touched = overview(conn, user, false).await?;
    Ok(topics
        .iter()
        .filter_map(|t| touched.done.get(t).map(|done| (*t, *done)))
        .collect())
}

/// A course's progress for one learner.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CourseProgress {
    pub topics: i64,
    pub done: i64,
    /// 0-100: the average share done over its topics.
    pub percent: i64,
    share: f64,
}

impl CourseProgress {
    pub fn started(&self) -> bool {
        self.percent > 0 || self.done > 0
    }

    pub fn finished(&self) -> bool {
        self.topics > 0 && self.done == self.topics
    }
}

fn percent(share: f64, topics: i64) -> i64 {
    if topics == 0 {
        0
    } else {
        (share * 100.0 / topics as f64).floor().clamp(0.0, 100.0) as i64
    }
}

/// Progress in each of `courses`, over their published topics.
pub async fn courses(
    conn: &mut PgConnection,
    user: UserId,
    courses: &[CourseId],
) -> sqlx::Result<HashMap<CourseId, CourseProgress>> {
    let placed = catalog::published_topics(conn, courses).await?;
    let ids: Vec<TopicId> = placed.iter().map(|(_, t)| *t).collect();
    let done = topics(conn, user, &ids).await?;
    Ok(tally(placed, &done))
}

/// Progress per course over `placed` (course, published topic) pairs, with
/// `done` what the learner did of each topic.
fn tally(
    placed: impl IntoIterator<Item = (CourseId, TopicId)>,
    done: &HashMap<TopicId, (bool, f64)>,
) -> HashMap<CourseId, CourseProgress> {
    let mut out: HashMap<CourseId, CourseProgress> = HashMap::new();
    for (course, topic) in placed {
        let entry = out.entry(course).or_default();
        let (is_done, share) = done.get(&topic).copied().unwrap_or_default();
        entry.topics += 1;
        entry.done += i64::from(is_done);
        entry.share += share;
    }
    for p in out.values_mut() {
        p.percent = percent(p.share, p.topics);
    }
    out
}

/// How much of what `products` hold the learner has used, 0-100 (the refund
/// policy's "content used"): the average share done over all their topics.
pub async fn used_percent(
    conn: &mut PgConnection,
    user: UserId,
    products: &[Product],
) -> sqlx::Result<i64> {
    let held = catalog::courses_of(conn, products).await?;
    Ok(overall(&courses(conn, user, &held).await?))
}

/// The average share done over every topic of `all`, 0-100.
fn overall(all: &HashMap<CourseId, CourseProgress>) -> i64 {
    let topics: i64 = all.values().map(|p| p.topics).sum();
    let share: f64 = all.values().map(|p| p.share).sum();
    percent(share, topics)
}

/// The first topic of `products`, in roadmap and outline order, that the
/// learner has not finished (the very first when all are): where "학습
/// 시작하기" goes after buying.
pub async fn next_topic(
    conn: &mut PgConnection,
    user: UserId,
    products: &[Product],
) -> sqlx::Result<Option<TopicId>> {
    let held = catalog::courses_of(conn, products).await?;
    let ids: Vec<TopicId> = catalog::published_topics(conn, &held)
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let done = topics(conn, user, &ids).await?;
    Ok(ids
        .iter()
        .find(|t| !done.get(t).is_some_and(|(finished, _)| *finished))
        .or(ids.first())
        .copied())
}

/// Where "continue learning" goes.
pub struct LastTopic {
    pub topic: TopicId,
    pub title: String,
    pub course_title: String,
}

/// A learner's progress over everything they touched and their study time:
/// what the home page and the dashboard show of them, read in one round
/// trip ([`overview`]) and laid over the catalogue's cached courses.
#[derive(Clone, Debug, Default)]
pub struct Overview {
    /// Topics touched, latest first.
    recent: Vec<TopicId>,
    done: HashMap<TopicId, (bool, f64)>,
    pub study: StudyTime,
}

impl Overview {
    /// From the topics touched (latest first: done, share done) and the
    /// study time.
    fn of(touched: Vec<(TopicId, bool, f64)>, study: StudyTime) -> Self {
        Self {
            recent: touched.iter().map(|(t, _, _)| *t).collect(),
            done: touched
                .into_iter()
                .map(|(t, done, share)| (t, (done, share)))
                .collect(),
            study,
        }
    }

    /// Progress in each of `courses` over its published topics.
    pub fn courses<'a>(
        &self,
        courses: impl IntoIterator<Item = &'a CourseView>,
    ) -> HashMap<CourseId, CourseProgress> {
        let placed = courses.into_iter().flat_map(|c| {
            c.lectures
                .iter()
                .filter(|l| l.published)
                .flat_map(|l| l.topics.iter().filter(|t| t.published))
                .map(move |t| (c.id, t.id))
        });
        tally(placed, &self.done)
    }

    /// How much of `courses` the learner has used, 0-100 (as [`used_percent`]).
    pub fn used_percent<'a>(&self, courses: impl IntoIterator<Item = &'a CourseView>) -> i64 {
        overall(&self.courses(courses))
    }

    /// Where "이어서 학습하기" goes in `courses` (in order): the topic opened
    /// last while it is not done, else the next one not done after it, else
    /// the first one not done; the last one when all are done. `None` before
    /// the learner opened anything.
    pub async fn continue_at(
        &self,
        courses: &[&CourseView],
        catalog: &CatalogCache,
        db: &sqlx::PgPool,
    ) -> sqlx::Result<Option<LastTopic>> {
        let Some(last) = self.last_topic(catalog, db).await? else {
            return Ok(None);
        };
        let undone = |t: &TopicId| !self.done.get(t).is_some_and(|(done, _)| *done);
        if undone(&last.topic) {
            return Ok(Some(last));
        }
        let flat: Vec<(&CourseView, &catalog::service::TopicView)> = courses
            .iter()
            .flat_map(|c| {
                c.lectures
                    .iter()
                    .filter(|l| l.published)
                    .flat_map(|l| l.topics.iter().filter(|t| t.published))
                    .map(move |t| (*c, t))
            })
            .collect();
        let after = flat
            .iter()
            .position(|(_, t)| t.id == last.topic)
            .map_or(0, |i| i + 1);
        let next = flat[after.min(flat.len())..]
            .iter()
            .chain(flat.iter())
            .find(|(_, t)| undone(&t.id));
        Ok(Some(match next {
            Some((course, topic)) => LastTopic {
                topic: topic.id,
                title: topic.title.clone(),
                course_title: course.title.clone(),
            },
            None => last,
        }))
    }

    /// The topic opened or watched last that is still published (looked up
    /// in the catalogue's cache).
    pub async fn last_topic(
        &self,
        catalog: &CatalogCache,
        db: &sqlx::PgPool,
    ) -> sqlx::Result<Option<LastTopic>> {
        for topic in self.recent.iter().take(5).copied() {
            let found = catalog.topic(db, topic).await?;
            if let Some(t) = found.as_ref().as_ref().filter(|t| t.place.published) {
                return Ok(Some(LastTopic {
                    topic,
                    title: t.place.title.clone(),
                    course_title: t.place.course_title.clone(),
                }));
            }
        }
        Ok(None)
    }
}

/// Study time: in all, this week (Monday to Sunday, Seoul), and per week of
/// the last [`STUDY_WEEKS`] (each by its Monday, oldest first, weeks without
/// study as 0).
#[derive(Clone, Debug, Default)]
pub struct StudyTime {
    pub total_secs: f64,
    pub week_secs: f64,
    pub weeks: Vec<(time::Date, f64)>,
}

/// How many weeks of study time the dashboard shows.
pub const STUDY_WEEKS: i64 = 8;

/// The learner's [`Overview`], in one statement; its study time only
/// with `study` (left at zero otherwise, and not read: a statement of its
/// own, so each keeps one plan).
pub async fn overview(
    conn: &mut PgConnection,
    user: UserId,
    study: bool,
) -> sqlx::Result<Overview> {
    let today = OffsetDateTime::now_utc().to_offset(KST).date();
    let monday = today - Duration::days(i64::from(today.weekday().number_days_from_monday()));
    let first = monday - Duration::weeks(STUDY_WEEKS - 1);
    let mine = Mine::of(user).await;
    let studied = mine.part::<Studied>(Uuid::nil());
    if !study {
        // The dashboard's read holds the topics touched too.
        let kept = mine.part::<Touched>(Uuid::nil());
        if let Some(overview) = kept
            .as_ref()
            .map(|t| &t.0)
            .or(studied.as_ref().map(|s| &s.overview))
        {
            return Ok(overview.clone());
        }
        let touched = repo::touched(conn, user).await?;
        let overview = Overview::of(touched, StudyTime::default());
        mine.keep(Uuid::nil(), Arc::new(Touched(overview.clone())));
        return Ok(overview);
    }
    if let Some(kept) = studied.filter(|s| s.first == first) {
        return Ok(kept.overview.clone());
    }
    let row = repo::overview(conn, user, first).await?;
    let epoch = time::Date::from_julian_day(UNIX_EPOCH_JULIAN_DAY).unwrap_or(today);
    let mut weeks: Vec<(time::Date, f64)> = (0..STUDY_WEEKS)
        .map(|i| (first + Duration::weeks(i), 0.0))
        .collect();
    for (n, secs) in row.days {
        let day = epoch + Duration::days(i64::from(n));
        let index = (day - first).whole_weeks();
        if let Some(week) = usize::try_from(index).ok().and_then(|i| weeks.get_mut(i)) {
            week.1 += secs;
        }
    }
    let study = StudyTime {
        total_secs: row.total_secs,
        week_secs: weeks.last().map_or(0.0, |w| w.1),
        weeks,
    };
    let overview = Overview::of(row.touched, study);
    mine.keep(
        Uuid::nil(),
        Arc::new(Studied {
            first,
            overview: overview.clone(),
        }),
    );
    Ok(overview)
}

/// What pages keep of a learner in their entry (`mine`): a lesson page's
/// read, for the outline it was read for;
struct KeptLesson {
    outline: Vec<TopicId>,
    row: repo::LessonRow,
}

/// every topic they touched (the home page, the course page, the API);
pub(super) struct Touched(pub(super) Overview);

/// and the same with study time in weeks from `first` (the dashboard).
struct Studied {
    first: time::Date,
    overview: Overview,
}

/// 1970-01-01 as a Julian day number (PostgreSQL's `date - DATE '1970-01-01'`
/// counts from it).
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// Real seconds the learner spent watching `topics`.
pub async fn study_secs_in(
    conn: &mut PgConnection,
    user: UserId,
    topics: &[TopicId],
) -> sqlx::Result<f64> {
    let ids: Vec<uuid::Uuid> = topics.iter().map(|t| t.0).collect();
    repo::study_secs_in(conn, user, &ids).await
}

/// The playback speed the learner chose last.
pub async fn playback_rate(conn: &mut PgConnection, user: UserId) -> sqlx::Result<f32> {
    repo::playback_rate(conn, user).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_is_the_average_share_rounded_down() {
        assert_eq!(percent(0.0, 0), 0);
        assert_eq!(percent(1.5, 3), 50);
        assert_eq!(percent(2.999, 3), 99);
        assert_eq!(percent(3.0, 3), 100);
    }

    #[test]
    fn the_resume_point_moves_to_a_higher_number_of_its_page_or_to_another_page() {
        let page = uuid::Uuid::new_v4();
        let at = |page, seq| Place {
            position: 1.0,
            page,
            seq,
        };
        let stored = repo::PlacedBy { page, seq: 5 };
        assert!(at(page, 6).is_after(Some(&stored)));
        // A beacon landing after a later fetch does not move it back.
        assert!(!at(page, 4).is_after(Some(&stored)));
        assert!(!at(page, 5).is_after(Some(&stored)));
        assert!(at(uuid::Uuid::new_v4(), 1).is_after(Some(&stored)));
        assert!(at(page, 0).is_after(None));
    }
}

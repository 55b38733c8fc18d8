//! Lanes: each kind of job belongs to one lane, and each lane has workers of
//! its own, so quick work (mail, grading) never waits behind slow work
//! (transcoding, rollups).

use super::queue::{KindQueue, Kinds};

/// A named share of the workers and the job kinds it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    pub name: &'static str,
    /// Jobs of this lane run at once in this process (0: none here).
    pub workers: usize,
    /// Its kinds. The one lane with none takes every kind no other lane
    /// names (new kinds land there).
    pub kinds: Vec<&'static str>,
}

impl Lane {
    pub fn new(name: &'static str, workers: usize, kinds: &[&'static str]) -> Self {
        Self {
            name,
            workers,
            kinds: kinds.to_vec(),
        }
    }
}

/// A worker's lanes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lanes(Vec<Lane>);

impl Lanes {
    pub fn new(lanes: Vec<Lane>) -> Self {
        debug_assert!(
            lanes.iter().filter(|l| l.kinds.is_empty()).count() <= 1,
            "one lane at most takes the kinds no lane names"
        );
        Self(lanes)
    }

    /// One lane for every kind with `workers` loops.
    pub fn single(workers: usize) -> Self {
        Self(vec![Lane::new("all", workers, &[])])
    }

    pub fn iter(&self) -> impl Iterator<Item = &Lane> {
        self.0.iter()
    }

    /// Every kind some lane names.
    fn named(&self) -> Vec<String> {
        self.0
            .iter()
            .flat_map(|l| l.kinds.iter().map(|k| (*k).to_owned()))
            .collect()
    }

    /// The kinds `lane` claims.
    pub(super) fn kinds_of(&self, lane: &Lane) -> Kinds {
        if lane.kinds.is_empty() {
            let named = self.named();
            if named.is_empty() {
                Kinds::All
            } else {
                Kinds::AllBut(named)
            }
        } else {
            Kinds::Only(lane.kinds.iter().map(|k| (*k).to_owned()).collect())
        }
    }

    /// The kinds of every lane with workers here (what `run_once` takes).
    pub(super) fn here(&self) -> Kinds {
        let default_here = self.0.iter().any(|l| l.kinds.is_empty() && l.workers > 0);
        let pick = |here: bool| -> Vec<String> {
            self.0
                .iter()
                .filter(|l| (l.workers > 0) == here)
                .flat_map(|l| l.kinds.iter().map(|k| (*k).to_owned()))
                .collect()
        };
        if default_here {
            let away = pick(false);
            if away.is_empty() {
                Kinds::All
            } else {
                Kinds::AllBut(away)
            }
        } else {
            Kinds::Only(pick(true))
        }
    }

    /// The name of the lane that runs `kind`.
    pub fn lane_of(&self, kind: &str) -> &'static str {
        self.0
            .iter()
            .find(|l| l.kinds.contains(&kind))
            .or_else(|| self.0.iter().find(|l| l.kinds.is_empty()))
            .map_or("-", |l| l.name)
    }
}

/// One lane's queue now: its kinds' due and running jobs together.
#[derive(Clone, Debug)]
pub struct LaneQueue {
    pub name: &'static str,
    /// Its workers in a process with these settings.
    pub workers: usize,
    /// The kinds it runs (empty: every other kind).
    pub kinds: Vec<&'static str>,
    pub due: i64,
    pub running: i64,
    /// How long its oldest due job has waited, in seconds.
    pub oldest_wait_secs: Option<f64>,
}

impl LaneQueue {
    /// The oldest wait in whole seconds, for pages.
    pub fn oldest_wait_whole_secs(&self) -> Option<i64> {
        self.oldest_wait_secs.map(|s| s.max(0.0) as i64)
    }
}

impl Lanes {
    /// Folds each kind's queue ([`super::queues`]) into its lane's, lanes
    /// in their order.
    pub fn queues(&self, kinds: &[KindQueue]) -> Vec<LaneQueue> {
        self.0
            .iter()
            .map(|lane| {
                let mut q = LaneQueue {
                    name: lane.name,
                    workers: lane.workers,
                    kinds: lane.kinds.clone(),
                    due: 0,
                    running: 0,
                    oldest_wait_secs: None,
                };
                for k in kinds.iter().filter(|k| self.lane_of(&k.kind) == lane.name) {
                    q.due += k.due;
                    q.running += k.running;
                    q.oldest_wait_secs = match (q.oldest_wait_secs, k.oldest_wait_secs) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                }
                q
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lanes() -> Lanes {
        Lanes::new(vec![
            Lane::new("quick", 4, &[]),
            Lane::new("grading", 0, &["grade"]),
            Lane::new("video", 1, &["transcode"]),
        ])
    }

    #[test]
    fn a_kind_belongs_to_its_lane_and_the_rest_to_the_default_one() {
        let lanes = lanes();
        assert_eq!(lanes.lane_of("transcode"), "video");
        assert_eq!(lanes.lane_of("mail.send"), "quick");
        let quick = lanes.iter().next().unwrap();
        assert_eq!(
            lanes.kinds_of(quick),
            Kinds::AllBut(vec!["grade".into(), "transcode".into()])
        );
    }

    #[test]
    fn a_lane_without_workers_here_is_left_to_others() {
        assert_eq!(lanes().here(), Kinds::AllBut(vec!["grade".into()]));
        let only = Lanes::new(vec![Lane::new("grading", 2, &["grade"])]);
        assert_eq!(only.here(), Kinds::Only(vec!["grade".into()]));
        assert_eq!(Lanes::single(1).here(), Kinds::All);
    }
}

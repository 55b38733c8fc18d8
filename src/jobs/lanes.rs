//! Lanes: each kind of job belongs to one lane, and each lane has workers of
//! its own, so quick work (mail, grading) never waits behind slow work
//! (transcoding, rollups).

use super::queue::Kinds;

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

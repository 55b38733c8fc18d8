//! One control group per sandboxed run, so a run can never hold more memory
//! (its pages and every tmpfs page it writes), more processes or more than
//! one core than its limits allow, whatever it does inside.
//!
//! Both cgroup versions are supported. The runs' groups are made under the
//! group this process is in (so the app's own limits still hold around
//! them):
//! - **v1**: one folder per run under `<controller>/<own>/weaverse-sandbox/`
//!   in each of the `memory`, `pids` and `cpu` hierarchies
//!   (`memory.limit_in_bytes` (+ `memsw`), `pids.max`, `cpu.cfs_quota_us`);
//! - **v2**: one folder per run under the own group, which needs the
//!   `memory`, `pids` and `cpu` controllers delegated to it; the process
//!   itself moves to a leaf `weaverse-app` first (v2 lets only leaves hold
//!   processes). `memory.max`, `memory.swap.max`, `pids.max`, `cpu.max`.
//!
//! When neither can be had, [`Cgroups::detect`] says why and the sandbox is
//! unusable (fail closed).

use std::path::{Path, PathBuf};

/// The controllers every run is limited by.
const CONTROLLERS: [&str; 3] = ["memory", "pids", "cpu"];
/// The folder the runs' groups are made in (v1).
const GROUP: &str = "weaverse-sandbox";
/// Where the app's own process moves to on v2.
const APP_LEAF: &str = "weaverse-app";

/// Where runs' groups are made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cgroups {
    V1 {
        memory: PathBuf,
        pids: PathBuf,
        cpu: PathBuf,
    },
    V2 {
        base: PathBuf,
    },
}

/// What one run may use, as the cgroup files take it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupLimits {
    pub memory_bytes: u64,
    pub processes: u64,
    /// Microseconds of CPU per 100 ms period (100 000 = one core).
    pub cpu_quota_us: u64,
}

/// The CPU accounting period, in microseconds.
const CPU_PERIOD_US: u64 = 100_000;

/// One mount of a cgroup file system, from `/proc/self/mountinfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Mount {
    point: PathBuf,
    /// The path inside the hierarchy that is mounted there.
    root: String,
    v2: bool,
    controllers: Vec<String>,
}

fn mounts(mountinfo: &str) -> Vec<Mount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            let fstype = *right.first()?;
            let options = right.get(2).copied().unwrap_or_default();
            let (root, point) = (left.get(3)?, left.get(4)?);
            let v2 = match fstype {
                "cgroup2" => true,
                "cgroup" => false,
                _ => return None,
            };
            Some(Mount {
                point: PathBuf::from(unescape(point)),
                root: unescape(root),
                v2,
                controllers: if v2 {
                    Vec::new()
                } else {
                    options.split(',').map(str::to_owned).collect()
                },
            })
        })
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as octal escapes.
fn unescape(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// This process's group in each hierarchy, from `/proc/self/cgroup`:
/// (controllers, path); v2's line has no controllers.
fn own_groups(cgroup: &str) -> Vec<(Vec<String>, String)> {
    cgroup
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            let controllers = controllers
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect();
            Some((controllers, path.to_owned()))
        })
        .collect()
}

/// The folder of `own` (a path in the hierarchy) under `mount`.
fn folder_of(mount: &Mount, own: &str) -> PathBuf {
    let inside = own.strip_prefix(&mount.root).unwrap_or(own);
    let inside = inside.trim_start_matches('/');
    if inside.is_empty() {
        mount.point.clone()
    } else {
        mount.point.join(inside)
    }
}

/// Where v1 groups of each controller go, when all three hierarchies are
/// mounted.
fn plan_v1(mounts: &[Mount], own: &[(Vec<String>, String)]) -> Option<Cgroups> {
    let folder = |controller: &str| {
        let mount = mounts
            .iter()
            .find(|m| !m.v2 && m.controllers.iter().any(|c| c == controller))?;
        let path = own
            .iter()
            .find(|(cs, _)| cs.iter().any(|c| c == controller))
            .map_or("/", |(_, p)| p.as_str());
        Some(folder_of(mount, path).join(GROUP))
    };
    Some(Cgroups::V1 {
        memory: folder("memory")?,
        pids: folder("pids")?,
        cpu: folder("cpu")?,
    })
}

/// Where v2 groups go: this process's own group in the unified hierarchy.
fn plan_v2(mounts: &[Mount], own: &[(Vec<String>, String)]) -> Option<Cgroups> {
    let mount = mounts.iter().find(|m| m.v2)?;
    let path = own
        .iter()
        .find(|(cs, _)| cs.is_empty())
        .map(|(_, p)| p.as_str())?;
    Some(Cgroups::V2 {
        base: folder_of(mount, path),
    })
}

fn read(path: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

fn write(path: &Path, value: &str) -> Result<(), String> {
    std::fs::write(path, value).map_err(|e| format!("{}: {e}", path.display()))
}

impl Cgroups {
    /// Finds a cgroup version with the three controllers usable by this
    /// process, and makes the folders runs' groups go in.
    pub fn detect() -> Result<Self, String> {
        let mountinfo = read(Path::new("/proc/self/mountinfo")).map_err(|e| e.to_string())?;
        let cgroup = read(Path::new("/proc/self/cgroup")).map_err(|e| e.to_string())?;
        let (mounts, own) = (mounts(&mountinfo), own_groups(&cgroup));
        let mut why = Vec::new();
        if let Some(v1) = plan_v1(&mounts, &own) {
            match v1.prepare() {
                Ok(()) => return Ok(v1),
                Err(e) => why.push(format!("cgroup v1: {e}")),
            }
        }
        if let Some(v2) = plan_v2(&mounts, &own) {
            match v2.prepare() {
                Ok(()) => return Ok(v2),
                Err(e) => why.push(format!("cgroup v2: {e}")),
            }
        }
        if why.is_empty() {
            why.push("no cgroup file system with the memory, pids and cpu controllers".into());
        }
        Err(why.join("; "))
    }

    /// Makes the folders and turns the controllers on for children.
    fn prepare(&self) -> Result<(), String> {
        match self {
            Self::V1 { memory, pids, cpu } => {
                for dir in [memory, pids, cpu] {
                    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                }
                Ok(())
            }
            Self::V2 { base } => {
                let available = read(&base.join("cgroup.controllers"))
                    .map_err(|e| format!("{}: {e}", base.display()))?;
                let missing: Vec<&str> = CONTROLLERS
                    .iter()
                    .copied()
                    .filter(|c| !available.split_whitespace().any(|a| a == *c))
                    .collect();
                if !missing.is_empty() {
                    return Err(format!(
                        "{} has no {} controller (delegate them to this service)",
                        base.display(),
                        missing.join(", ")
                    ));
                }
                let enable = CONTROLLERS.map(|c| format!("+{c}")).join(" ");
                let subtree = base.join("cgroup.subtree_control");
                if write(&subtree, &enable).is_err() {
                    // Only a group without processes may hand controllers to
                    // children: move this process to a leaf of its own.
                    let leaf = base.join(APP_LEAF);
                    std::fs::create_dir_all(&leaf)
                        .map_err(|e| format!("{}: {e}", leaf.display()))?;
                    let procs = read(&base.join("cgroup.procs")).unwrap_or_default();
                    for pid in procs.split_whitespace() {
                        // A process that ended meanwhile is no error.
                        let _ = std::fs::write(leaf.join("cgroup.procs"), pid);
                    }
                    write(&subtree, &enable)?;
                }
                Ok(())
            }
        }
    }

    /// Makes the group of one run with its limits.
    pub fn create(&self, name: &str, limits: GroupLimits) -> Result<RunGroup, String> {
        let dirs: Vec<PathBuf> = match self {
            Self::V1 { memory, pids, cpu } => {
                vec![memory.join(name), pids.join(name), cpu.join(name)]
            }
            Self::V2 { base } => vec![base.join(name)],
        };
        for dir in &dirs {
            std::fs::create_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let group = RunGroup {
            v2: matches!(self, Self::V2 { .. }),
            dirs,
        };
        group.limit(limits)?;
        Ok(group)
    }
}

/// The groups of one run (one per v1 hierarchy, or one on v2), removed
/// when dropped.
#[derive(Debug)]
pub struct RunGroup {
    v2: bool,
    dirs: Vec<PathBuf>,
}

impl RunGroup {
    fn limit(&self, limits: GroupLimits) -> Result<(), String> {
        let memory = limits.memory_bytes.to_string();
        let processes = limits.processes.to_string();
        let cpu = limits.cpu_quota_us.to_string();
        if self.v2 {
            let dir = &self.dirs[0];
            write(&dir.join("memory.max"), &memory)?;
            // No swap: pages past the limit cannot hide there.
            if dir.join("memory.swap.max").exists() {
                write(&dir.join("memory.swap.max"), "0")?;
            }
            write(&dir.join("pids.max"), &processes)?;
            write(&dir.join("cpu.max"), &format!("{cpu} {CPU_PERIOD_US}"))?;
        } else {
            let (memory_dir, pids_dir, cpu_dir) = (&self.dirs[0], &self.dirs[1], &self.dirs[2]);
            write(&memory_dir.join("memory.limit_in_bytes"), &memory)?;
            if memory_dir.join("memory.memsw.limit_in_bytes").exists() {
                write(&memory_dir.join("memory.memsw.limit_in_bytes"), &memory)?;
            }
            write(&pids_dir.join("pids.max"), &processes)?;
            write(
                &cpu_dir.join("cpu.cfs_period_us"),
                &CPU_PERIOD_US.to_string(),
            )?;
            write(&cpu_dir.join("cpu.cfs_quota_us"), &cpu)?;
        }
        Ok(())
    }

    /// The files a process writes its pid to, to join every group.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }

    /// Whether the kernel killed a process of the run for memory (the
    /// memory group's `oom_kill` count).
    pub fn out_of_memory(&self) -> bool {
        let file = if self.v2 {
            "memory.events"
        } else {
            "memory.oom_control"
        };
        read(&self.dirs[0].join(file)).is_ok_and(|text| counter(&text, "oom_kill") > 0)
    }
}

/// The value of `key` in a flat-keyed cgroup file (`key value` lines).
fn counter(text: &str, key: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Removes a run's group folders; a group whose last process is still being
/// reaped is busy for a moment, so it is tried again a few times.
fn remove_groups(dirs: &[PathBuf]) {
    for dir in dirs {
        for _ in 0..50 {
            if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

impl Drop for RunGroup {
    fn drop(&mut self) {
        let dirs = std::mem::take(&mut self.dirs);
        // Usually gone at the first try; the retries (which sleep) run off
        // the async threads when there is a runtime to run them on.
        if dirs.iter().all(|d| std::fs::remove_dir(d).is_ok()) {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(move || remove_groups(&dirs));
            }
            Err(_) => remove_groups(&dirs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID_MOUNTINFO: &str = "\
25 30 0:22 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw
28 25 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory
29 25 0:26 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids
30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu,cpuacct
";
    const HYBRID_CGROUP: &str = "\
9:name=systemd:/
8:pids:/
4:memory:/process_api/abc
1:cpu,cpuacct:/
0::/
";

    #[test]
    fn v1_groups_go_under_this_process_s_own_group_in_each_hierarchy() {
        let plan = plan_v1(&mounts(HYBRID_MOUNTINFO), &own_groups(HYBRID_CGROUP));
        assert_eq!(
            plan,
            Some(Cgroups::V1 {
                memory: "/sys/fs/cgroup/memory/process_api/abc/weaverse-sandbox".into(),
                pids: "/sys/fs/cgroup/pids/weaverse-sandbox".into(),
                cpu: "/sys/fs/cgroup/cpu,cpuacct/weaverse-sandbox".into(),
            })
        );
    }

    #[test]
    fn v2_groups_go_under_the_unified_group_seen_from_a_container() {
        let mountinfo = "1 0 0:30 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let plan = plan_v2(&mounts(mountinfo), &own_groups("0::/docker/abc/svc\n"));
        assert_eq!(
            plan,
            Some(Cgroups::V2 {
                base: "/sys/fs/cgroup/svc".into()
            })
        );
        // No v1 hierarchies there.
        assert_eq!(
            plan_v1(&mounts(mountinfo), &own_groups("0::/docker/abc/svc\n")),
            None
        );
    }

    #[test]
    fn a_v2_run_gets_its_limits_in_the_v2_files() {
        let base = std::env::temp_dir().join(format!("cg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&base).unwrap();
        let cgroups = Cgroups::V2 { base: base.clone() };
        let group = cgroups
            .create(
                "run-1",
                GroupLimits {
                    memory_bytes: 512 << 20,
                    processes: 36,
                    cpu_quota_us: 100_000,
                },
            )
            .unwrap();
        let dir = base.join("run-1");
        let file = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(file("memory.max"), "536870912");
        assert_eq!(file("pids.max"), "36");
        assert_eq!(file("cpu.max"), "100000 100000");
        assert_eq!(group.procs_files(), vec![dir.join("cgroup.procs")]);
        std::fs::write(dir.join("memory.events"), "low 0\noom 1\noom_kill 1\n").unwrap();
        assert!(group.out_of_memory());
        drop(group);
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn counters_are_read_by_key() {
        let text = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
        assert_eq!(counter(text, "oom_kill"), 2);
        assert_eq!(counter(text, "missing"), 0);
    }
}

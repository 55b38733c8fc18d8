//! Runs learner code where it can harm nothing. Each layer stops something
//! the others might miss (ADR 0017):
//!
//! `sh` (joins the run's own cgroups, opens the seccomp filter) -> `timeout
//! -s KILL` -> `setpriv` (uid/gid 65534, no groups) -> `bwrap --unshare-all
//! --die-with-parent --new-session --clearenv --seccomp 3 ...` -> `prlimit`
//! (CPU, address space, processes, file size, open files) -> the interpreter.
//!
//! Inside, the system folders are read-only, nothing of the app is visible
//! (no config, keys, database socket or environment), `/dev` holds only
//! `null`, `zero`, `full`, `random`, `urandom` and the `std*` links (no
//! writable `/dev/shm`), and the only writable place is `/tmp`, whose pages
//! the run's memory cgroup counts. The program's files are bound read-only
//! from a folder the host made. The host reads the result from the pipes
//! only (capped; the process group is killed at the cap), so nothing the
//! program does inside can make the host follow a path it planted. Runs are
//! bounded by a semaphore. When bubblewrap, the cgroups or the filter are
//! missing or unusable, [`Sandbox::probe`] says so and nothing runs (fail
//! closed).

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use crate::assessments::{
    cgroup::{Cgroups, GroupLimits, RunGroup},
    seccomp,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt},
    process::Command,
    sync::Semaphore,
};

crate::text_enum!(
    /// What a program is written in.
    Language {
        JavaScript => "javascript",
        Python => "python",
    }
);

impl Language {
    fn interpreter(&self) -> &'static str {
        match self {
            Self::JavaScript => "/usr/bin/node",
            Self::Python => "/usr/bin/python3",
        }
    }

    /// The file the program is written to.
    pub fn main_file(&self) -> &'static str {
        match self {
            Self::JavaScript => "main.js",
            Self::Python => "main.py",
        }
    }

    /// The file of the runner that joins a program and a test's harness.
    fn runner_file(&self) -> &'static str {
        match self {
            Self::JavaScript => "runner.js",
            Self::Python => "runner.py",
        }
    }

    /// The runner: reads the harness from fd 4 and closes it, then runs
    /// the program and the harness as scripts of one global scope (so the
    /// harness calls the program's functions). In JavaScript the program
    /// cannot reach the runner's variables; Python's introspection can reach
    /// anything in the process, so there the harness is only out of files.
    fn runner(&self) -> &'static str {
        match self {
            Self::JavaScript => JS_RUNNER,
            Self::Python => PY_RUNNER,
        }
    }
}

const JS_RUNNER: &str = r#""use strict";
const fs = require("fs");
const vm = require("vm");
let harness = "";
try { harness = fs.readFileSync(4, "utf8"); fs.closeSync(4); } catch (e) {}
const code = fs.readFileSync("/work/main.js", "utf8");
globalThis.require = require;
globalThis.module = { exports: {} };
globalThis.exports = globalThis.module.exports;
globalThis.__filename = "/work/main.js";
globalThis.__dirname = "/work";
vm.runInThisContext(code, { filename: "/work/main.js" });
vm.runInThisContext(harness, { filename: "test.js" });
"#;

const PY_RUNNER: &str = r#"import os
def _harness():
    try:
        with os.fdopen(4, "rb") as f:
            return f.read().decode()
    except OSError:
        return ""
_test = compile(_harness(), "test.py", "exec")
with open("/work/main.py", encoding="utf-8") as _f:
    _program = compile(_f.read(), "/work/main.py", "exec")
_scope = {"__name__": "__main__", "__file__": "/work/main.py", "__builtins__": __builtins__}
del _f, _harness
exec(_program, _scope)
exec(_test, _scope)
"#;

/// What one run may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub cpu_secs: u64,
    pub wall: Duration,
    pub memory_mb: u64,
    pub processes: u64,
    pub file_mb: u64,
    pub output_bytes: usize,
}

impl Limits {
    /// Defaults: 5 s CPU, 10 s wall, 512 MB for Python and the 1 GB Node
    /// needs to start (its address space is mostly reserved, not used), 32
    /// processes, 16 MB files, 1 MB output.
    pub fn default_for(language: Language) -> Self {
        Self {
            cpu_secs: 5,
            wall: Duration::from_secs(10),
            memory_mb: match language {
                Language::JavaScript => 1024,
                Language::Python => 512,
            },
            processes: 32,
            file_mb: 16,
            output_bytes: 1024 * 1024,
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The program exited with this code (or the limit's signal, as 128+n).
    Code(i32),
    /// The wall clock ran out.
    WallTime,
    /// It printed more than the output limit.
    OutputLimit,
    /// The kernel killed it at its memory cgroup's limit (pages it used or
    /// wrote to `/tmp`).
    Memory,
}

#[derive(Clone, Debug)]
pub struct Run {
    pub exit: Exit,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Run {
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandbox is unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The uid and gid programs run as (`nobody`).
const NOBODY: u32 = 65534;
/// Processes of the chain itself (sh/timeout, bwrap and its init) on top
/// of the program's own limit, for the cgroup's count.
const CHAIN_PROCESSES: u64 = 4;
/// One core, as the cgroup's CPU quota per 100 ms.
const ONE_CORE_US: u64 = 100_000;
/// How much of stderr is kept (for messages).
const STDERR_BYTES: usize = 64 * 1024;

pub struct Sandbox {
    /// Where run folders are made (owned by `nobody`, mode 0700).
    root: PathBuf,
    /// The seccomp filter bubblewrap installs (written at probe time).
    filter: PathBuf,
    /// Where each run's control groups are made.
    cgroups: Option<Cgroups>,
    slots: Arc<Semaphore>,
    /// Why it cannot run, when it cannot.
    unusable: Option<String>,
}

impl Sandbox {
    /// Checks that the whole chain runs a program (a Python one-liner) and
    /// keeps the answer: grading refuses to run when it did not.
    pub async fn probe(root: &Path, slots: usize) -> Self {
        let mut sandbox = Self {
            root: root.to_path_buf(),
            filter: root.with_extension("seccomp"),
            cgroups: None,
            slots: Arc::new(Semaphore::new(slots.max(1))),
            unusable: None,
        };
        if let Err(why) = sandbox.prepare() {
            tracing::error!(%why, "the grading sandbox is unusable; grading is off");
            sandbox.unusable = Some(why);
            return sandbox;
        }
        let result = sandbox
            .run(
                Language::Python,
                &[("main.py", b"print(6 * 7)".as_slice())],
                b"",
                Limits::default_for(Language::Python),
            )
            .await;
        sandbox.unusable = match result {
            Ok(run) if run.exit == Exit::Code(0) && run.stdout == b"42\n" => None,
            Ok(run) => Some(format!(
                "a test program did not run ({:?}): {}",
                run.exit,
                run.stderr_text().trim()
            )),
            Err(err) => Some(err.to_string()),
        };
        if let Some(why) = &sandbox.unusable {
            tracing::error!(%why, "the grading sandbox is unusable; grading is off");
        }
        sandbox
    }

    /// The run folders' root (0700, owned by the user programs run as, so
    /// bubblewrap can bind a run's folder and no one else can look), the
    /// seccomp filter and the cgroups.
    fn prepare(&mut self) -> Result<(), String> {
        std::fs::create_dir_all(&self.root)
            .and_then(|()| std::os::unix::fs::chown(&self.root, Some(NOBODY), Some(NOBODY)))
            .and_then(|()| set_mode(&self.root, 0o700))
            .map_err(|e| format!("the sandbox folder {}: {e}", self.root.display()))?;
        if let Ok(absolute) = std::fs::canonicalize(&self.root) {
            self.root = absolute;
            self.filter = self.root.with_extension("seccomp");
        }
        // bubblewrap runs as `nobody` and must pass through every parent.
        if let Some(parent) = crate::config::barring_parent(&self.root) {
            return Err(format!(
                "the sandbox folder {} is inside {}, which the sandbox user may not enter; \
                 set SANDBOX_DIR to a folder whose parents others may pass through",
                self.root.display(),
                parent.display()
            ));
        }
        // Written aside and renamed into place: processes probing the same
        // folder at once never hand bubblewrap a half-written filter.
        let filter = seccomp::filter().map_err(|e| format!("the seccomp filter: {e}"))?;
        let partial = self
            .filter
            .with_extension(format!("seccomp-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&partial, filter)
            .and_then(|()| set_mode(&partial, 0o644))
            .and_then(|()| std::fs::rename(&partial, &self.filter))
            .map_err(|e| format!("the seccomp filter {}: {e}", self.filter.display()))?;
        self.cgroups = Some(Cgroups::detect()?);
        Ok(())
    }

    /// `None` when programs can run; otherwise why not.
    pub fn unusable(&self) -> Option<&str> {
        self.unusable.as_deref()
    }

    /// Runs `language`'s interpreter on the first of `files` (all written
    /// into a fresh folder, read-only inside) with `stdin`.
    pub async fn run(
        &self,
        language: Language,
        files: &[(&str, &[u8])],
        stdin: &[u8],
        limits: Limits,
    ) -> Result<Run, SandboxError> {
        self.run_with_harness(language, files, None, stdin, limits)
            .await
    }

    /// Runs the program in `files` (its main file first) followed by a
    /// test's `harness` (code that calls the program's functions), as one
    /// program. The harness is never in a file the program can read: it
    /// comes on file descriptor 4 from a file outside the sandbox, which the
    /// language's runner reads and closes before the program starts.
    pub async fn run_with_harness(
        &self,
        language: Language,
        files: &[(&str, &[u8])],
        harness: Option<&[u8]>,
        stdin: &[u8],
        limits: Limits,
    ) -> Result<Run, SandboxError> {
        if let Some(why) = &self.unusable {
            return Err(SandboxError::Unavailable(why.clone()));
        }
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| SandboxError::Unavailable("closed".into()))?;
        let Some(cgroups) = &self.cgroups else {
            return Err(SandboxError::Unavailable("no cgroups".into()));
        };
        let dir = RunDir::new(&self.root)?;
        let group = cgroups
            .create(
                &dir.name(),
                GroupLimits {
                    memory_bytes: limits.memory_mb * 1024 * 1024,
                    processes: limits.processes + CHAIN_PROCESSES,
                    cpu_quota_us: ONE_CORE_US,
                },
            )
            .map_err(SandboxError::Unavailable)?;
        for (name, bytes) in files {
            if name.contains('/') || name.starts_with('.') || name.is_empty() {
                return Err(SandboxError::Unavailable(format!("bad file name {name:?}")));
            }
            let path = dir.0.join(name);
            tokio::fs::write(&path, bytes).await?;
            set_mode(&path, 0o644)?;
        }
        // The input is a file beside the run's folder (not inside it), so
        // the program, as `nobody`, may open `/dev/stdin` again: a pipe made
        // by this process would be root's and refuse it.
        let input = dir.stdin_path();
        tokio::fs::write(&input, stdin).await?;
        set_mode(&input, 0o644)?;
        let mut main = files.first().map_or(language.main_file(), |(n, _)| n);
        let hidden = dir.harness_path();
        if let Some(harness) = harness {
            tokio::fs::write(&hidden, harness).await?;
            set_mode(&hidden, 0o600)?;
            let runner = dir.0.join(language.runner_file());
            tokio::fs::write(&runner, language.runner()).await?;
            set_mode(&runner, 0o644)?;
            main = language.runner_file();
        }
        let started = Instant::now();
        let harness = harness.map(|_| hidden.as_path());
        let mut child = command(
            &dir.0,
            &self.filter,
            harness,
            &group,
            language,
            main,
            limits,
        )
        .stdin(std::fs::File::open(&input)?)
        .spawn()?;
        let pgid = child.id();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let out = read_capped(stdout, limits.output_bytes);
        let err = read_capped(stderr, STDERR_BYTES);
        let outcome = tokio::time::timeout(limits.wall + Duration::from_secs(2), async {
            let ((stdout, over), (stderr, _)) = tokio::join!(out, err);
            if over {
                kill_group(pgid).await;
            }
            let status = child.wait().await;
            (stdout, over, stderr, status)
        })
        .await;
        let elapsed = started.elapsed();
        let Ok((stdout, over, stderr, status)) = outcome else {
            kill_group(pgid).await;
            let _ = child.wait().await;
            return Ok(Run {
                exit: Exit::WallTime,
                stdout: Vec::new(),
                stderr: Vec::new(),
                elapsed,
            });
        };
        let status = status?;
        let code = status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + status.signal().unwrap_or(9)
        });
        if code == 125 && stderr.starts_with(JOIN_FAILED.as_bytes()) {
            return Err(SandboxError::Unavailable(
                String::from_utf8_lossy(&stderr).trim().to_owned(),
            ));
        }
        let exit = if over {
            Exit::OutputLimit
        } else if group.out_of_memory() {
            Exit::Memory
        } else if code == 137 && elapsed + Duration::from_millis(250) >= limits.wall {
            // `timeout` kills its whole group (itself too) at the wall.
            Exit::WallTime
        } else {
            Exit::Code(code)
        };
        Ok(Run {
            exit,
            stdout,
            stderr,
            elapsed,
        })
    }
}

/// What the joining shell prints before it gives up.
const JOIN_FAILED: &str = "weaverse-sandbox: cannot join";

/// The first link: a shell that writes its own pid into each of the run's
/// cgroups (so everything after it is counted there), opens the seccomp
/// filter as fd 3 for bubblewrap and the test's harness (when there is one)
/// as fd 4 for the runner, and becomes the rest of the chain.
const JOIN: &str = r#"filter=$1; harness=$2; shift 2
while [ "$1" != -- ]; do
  echo $$ > "$1" || { echo "weaverse-sandbox: cannot join $1" >&2; exit 125; }
  shift
done
shift
exec 3< "$filter"
if [ "$harness" != - ]; then exec 4< "$harness"; fi
exec "$@""#;

fn command(
    dir: &Path,
    filter: &Path,
    harness: Option<&Path>,
    group: &RunGroup,
    language: Language,
    main: &str,
    limits: Limits,
) -> Command {
    let mut c = Command::new("/bin/sh");
    c.env_clear()
        .arg("-c")
        .arg(JOIN)
        .arg("weaverse-run")
        .arg(filter)
        .arg(harness.map_or_else(
            || std::ffi::OsString::from("-"),
            |p| p.as_os_str().to_owned(),
        ))
        .args(group.procs_files())
        .arg("--")
        .arg("/usr/bin/timeout")
        .arg("-s")
        .arg("KILL")
        .arg(format!("{}", limits.wall.as_secs_f64()))
        .arg("/usr/bin/setpriv")
        .arg(format!("--reuid={NOBODY}"))
        .arg(format!("--regid={NOBODY}"))
        .arg("--clear-groups")
        .arg("--")
        .arg("/usr/bin/bwrap")
        .args([
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--ro-bind",
            "/usr",
            "/usr",
            "--symlink",
            "usr/lib",
            "/lib",
            "--symlink",
            "usr/lib64",
            "/lib64",
            "--symlink",
            "usr/bin",
            "/bin",
            "--proc",
            "/proc",
        ])
        .args(DEVICES.iter().flat_map(|d| ["--dev-bind", d, d]))
        .args(DEV_LINKS.iter().flat_map(|(to, at)| ["--symlink", to, at]))
        .args(["--seccomp", "3", "--size"])
        // Larger than the memory limit: the cgroup, which counts these
        // pages, is what stops a run that fills it (a memory verdict).
        .arg(((limits.memory_mb + 64) * 1024 * 1024).to_string())
        .args(["--tmpfs", "/tmp", "--ro-bind"])
        .arg(dir)
        .args([
            "/work",
            "--chdir",
            "/work",
            "--setenv",
            "PATH",
            "/usr/bin",
            "--setenv",
            "HOME",
            "/tmp",
            "--setenv",
            "LANG",
            "C.UTF-8",
            "--remount-ro",
            "/",
            "--",
            "/usr/bin/prlimit",
        ])
        .arg(format!("--cpu={}", limits.cpu_secs))
        .arg(format!("--as={}", limits.memory_mb * 1024 * 1024))
        .arg(format!("--nproc={}", limits.processes))
        .arg(format!("--fsize={}", limits.file_mb * 1024 * 1024))
        .arg("--nofile=64")
        .arg("--")
        .arg(language.interpreter())
        .arg(main)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    c
}

/// The device nodes a program may use (bound from the host, in a `/dev`
/// that is otherwise empty and read-only).
const DEVICES: [&str; 5] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];
/// The links programs expect in `/dev` (reading `/dev/stdin` is common).
const DEV_LINKS: [(&str, &str); 4] = [
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
];

/// Reads up to `cap` bytes; `true` when there was more.
async fn read_capped<R: AsyncRead + Unpin>(reader: Option<R>, cap: usize) -> (Vec<u8>, bool) {
    let Some(mut reader) = reader else {
        return (Vec::new(), false);
    };
    let mut out = Vec::with_capacity(cap.min(64 * 1024));
    let mut buf = [0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return (out, false),
            Ok(n) => {
                if out.len() + n > cap {
                    out.extend_from_slice(&buf[..cap - out.len()]);
                    return (out, true);
                }
                out.extend_from_slice(&buf[..n]);
            }
        }
    }
}

/// Kills the run's whole process group (timeout, setpriv, bwrap); the
/// program inside dies with bwrap (`--die-with-parent`, its PID namespace).
async fn kill_group(pgid: Option<u32>) {
    if let Some(pgid) = pgid {
        let _ = Command::new("/usr/bin/kill")
            .arg("-KILL")
            .arg("--")
            .arg(format!("-{pgid}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
    }
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// A run's folder, removed when dropped.
struct RunDir(PathBuf);

impl RunDir {
    fn new(root: &Path) -> std::io::Result<Self> {
        let dir = root.join(format!("run-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir)?;
        set_mode(&dir, 0o755)?;
        Ok(Self(dir))
    }
}

impl RunDir {
    /// The file a test's harness is handed over from (root's, outside the
    /// folder the program sees).
    fn harness_path(&self) -> PathBuf {
        self.0.with_extension("harness")
    }

    /// The file the run's standard input is read from.
    fn stdin_path(&self) -> PathBuf {
        self.0.with_extension("stdin")
    }

    /// The folder's name, which also names the run's cgroups.
    fn name(&self) -> String {
        self.0
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        // The program could not write here (read-only inside), so this
        // removes only what the host wrote.
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::remove_file(self.stdin_path());
        let _ = std::fs::remove_file(self.harness_path());
    }
}

//! The sandbox under attack: each hostile program must end (with a result
//! the grader can turn into a verdict) and leave the host as it was. These
//! run the real chain (timeout, setpriv, bubblewrap, prlimit) with Debian's
//! node and python3.

use std::{path::PathBuf, time::Duration};

use weaverse::assessments::sandbox::{Exit, Language, Limits, Run, Sandbox};

async fn sandbox() -> Sandbox {
    let root = std::env::temp_dir().join("weaverse-sandbox-tests");
    let sandbox = Sandbox::probe(&root, 4).await;
    assert_eq!(sandbox.unusable(), None, "bubblewrap must work here");
    sandbox
}

async fn python(code: &str) -> Run {
    run(
        Language::Python,
        code,
        Limits::default_for(Language::Python),
    )
    .await
}

async fn run(language: Language, code: &str, limits: Limits) -> Run {
    sandbox()
        .await
        .run(
            language,
            &[(language.main_file(), code.as_bytes())],
            b"",
            limits,
        )
        .await
        .expect("the run ends")
}

fn out(run: &Run) -> String {
    String::from_utf8_lossy(&run.stdout).into_owned()
}

/// Processes on the host whose command line contains `marker`.
fn host_processes(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|cmd| String::from_utf8_lossy(cmd).contains(marker))
        .count()
}

#[tokio::test]
async fn a_plain_program_runs_with_its_input_and_nothing_of_the_host() {
    let sandbox = sandbox().await;
    let code =
        "import os, sys\nprint(sys.stdin.read().strip().upper(), os.getuid(), sorted(os.environ))";
    let run = sandbox
        .run(
            Language::Python,
            &[("main.py", code.as_bytes())],
            b"hello\n",
            Limits::default_for(Language::Python),
        )
        .await
        .unwrap();
    assert_eq!(run.exit, Exit::Code(0), "{}", run.stderr_text());
    // Not root, and none of the app's environment (only what bwrap sets).
    assert_eq!(out(&run), "HELLO 65534 ['HOME', 'LANG', 'PATH', 'PWD']\n");
    let node = run_js("console.log([1, 2, 3].map((x) => x * 2).join(','))").await;
    assert_eq!(node.exit, Exit::Code(0), "{}", node.stderr_text());
    assert_eq!(out(&node), "2,4,6\n");
}

async fn run_js(code: &str) -> Run {
    run(
        Language::JavaScript,
        code,
        Limits::default_for(Language::JavaScript),
    )
    .await
}

#[tokio::test]
async fn a_fork_bomb_hits_the_process_limit_and_leaves_nothing_running() {
    let marker = format!("forkbomb{}", std::process::id());
    let code = format!(
        "import os, time\n# {marker}\nfor _ in range(10000):\n    try:\n        os.fork()\n    except OSError:\n        pass\ntime.sleep(60)\n"
    );
    let run = python(&code).await;
    assert!(
        matches!(run.exit, Exit::WallTime | Exit::Code(_)),
        "{:?}",
        run.exit
    );
    assert!(run.elapsed < Duration::from_secs(15));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(host_processes(&marker), 0);
}

#[tokio::test]
async fn a_memory_bomb_fails_inside_its_limit() {
    let run =
        python("chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))\n").await;
    assert_ne!(run.exit, Exit::Code(0));
    assert!(
        run.stderr_text().contains("MemoryError"),
        "{}",
        run.stderr_text()
    );
    let node = run_js("const a = []; for (;;) a.push(new Array(1e6).fill(1.5));").await;
    assert_ne!(node.exit, Exit::Code(0), "{}", node.stderr_text());
}

#[tokio::test]
async fn an_infinite_loop_is_stopped_by_the_cpu_limit() {
    let limits = Limits {
        cpu_secs: 1,
        ..Limits::default_for(Language::Python)
    };
    let run = run(Language::Python, "while True:\n    pass\n", limits).await;
    // SIGXCPU (24) or SIGKILL at the hard limit.
    assert!(
        matches!(run.exit, Exit::Code(152) | Exit::Code(137)),
        "{:?}",
        run.exit
    );
    assert!(run.elapsed < Duration::from_secs(5));
}

#[tokio::test]
async fn sleeping_forever_is_stopped_by_the_wall_clock() {
    let limits = Limits {
        wall: Duration::from_secs(2),
        ..Limits::default_for(Language::Python)
    };
    let run = run(Language::Python, "import time\ntime.sleep(10**6)\n", limits).await;
    assert_eq!(run.exit, Exit::WallTime);
    assert!(run.elapsed < Duration::from_secs(5));
}

#[tokio::test]
async fn a_child_left_running_dies_with_the_run() {
    let marker = format!("orphan{}", std::process::id());
    let code = format!(
        "import subprocess\nsubprocess.Popen(['/usr/bin/python3', '-c', 'import time; time.sleep(300)', '{marker}'], start_new_session=True)\nprint('bye')\n"
    );
    let run = python(&code).await;
    assert_eq!(run.exit, Exit::Code(0), "{}", run.stderr_text());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(host_processes(&marker), 0, "the child outlived the run");
}

#[tokio::test]
async fn secrets_of_the_host_cannot_be_read() {
    // The app's keys live under its var folder; make one to look for.
    let keys = std::env::temp_dir().join(format!("weaverse-keys-{}", std::process::id()));
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::write(keys.join("session_key.key"), "topsecret").unwrap();
    let code = format!(
        "import os\nfor p in ['/etc/shadow', '/etc/passwd', '{}', '/proc/1/environ', '/var/run/postgresql', '/root']:\n    try:\n        with open(p, 'rb') as f:\n            print(p, 'READ', f.read()[:200])\n    except Exception as e:\n        print(p, 'refused', type(e).__name__)\n",
        keys.join("session_key.key").display()
    );
    let run = python(&code).await;
    let text = out(&run);
    assert!(!text.contains("topsecret"), "{text}");
    for path in [
        "/etc/shadow",
        "/etc/passwd",
        "session_key.key",
        "/var/run/postgresql",
        "/root",
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains(path) && l.contains("refused")),
            "{path}: {text}"
        );
    }
    // PID 1 inside is the sandbox's own, with an empty environment.
    let environ = text
        .lines()
        .find(|l| l.starts_with("/proc/1/environ"))
        .unwrap();
    assert!(
        !environ.contains("DATABASE_URL") && !environ.contains("PATH="),
        "{environ}"
    );
    std::fs::remove_dir_all(keys).unwrap();
}

#[tokio::test]
async fn there_is_no_network_not_even_loopback() {
    let code = "import socket\nfor host, port in [('127.0.0.1', 5432), ('1.1.1.1', 80), ('::1', 5432)]:\n    try:\n        socket.create_connection((host, port), timeout=2)\n        print(host, 'CONNECTED')\n    except OSError as e:\n        print(host, 'refused')\n";
    let run = python(code).await;
    let text = out(&run);
    assert_eq!(text.matches("refused").count(), 3, "{text}");
    let node = run_js(
        "require('net').connect(5432, '127.0.0.1').on('connect', () => console.log('CONNECTED')).on('error', (e) => console.log('refused', e.code));",
    )
    .await;
    assert!(out(&node).starts_with("refused"), "{}", out(&node));
}

#[tokio::test]
async fn writing_outside_the_tmp_folder_fails_and_the_host_folder_is_untouched() {
    let code = "import os\nfor p in ['/work/planted.txt', '/usr/planted', '/planted', '/etc/planted']:\n    try:\n        open(p, 'w').write('x')\n        print(p, 'WROTE')\n    except OSError:\n        print(p, 'refused')\ntry:\n    os.symlink('/etc/shadow', '/work/result.txt')\n    print('SYMLINK')\nexcept OSError:\n    print('symlink refused')\n";
    let run = python(code).await;
    let text = out(&run);
    assert!(
        !text.contains("WROTE") && !text.contains("SYMLINK"),
        "{text}"
    );
    assert_eq!(text.matches("refused").count(), 5, "{text}");
    // Only the run folders the host made (and removed) were ever there.
    let root = std::env::temp_dir().join("weaverse-sandbox-tests");
    let planted: Vec<PathBuf> = walk(&root)
        .into_iter()
        .filter(|p| {
            p.to_string_lossy().contains("planted") || p.to_string_lossy().contains("result.txt")
        })
        .collect();
    assert!(planted.is_empty(), "{planted:?}");
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                found.extend(walk(&path));
            }
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn filling_the_disk_stops_at_the_small_tmp_folder() {
    let code = "n = 0\ntry:\n    with open('/tmp/fill', 'wb') as f:\n        while True:\n            f.write(b'x' * 1048576)\n            f.flush()\n            n += 1\nexcept OSError as e:\n    print('stopped after', n, 'MB')\n";
    let run = python(code).await;
    // Either the file-size limit (SIGXFSZ, 153) or the 16 MB tmpfs stops it.
    let text = out(&run);
    assert!(
        run.exit == Exit::Code(153) || text.starts_with("stopped after"),
        "{:?} {text}",
        run.exit
    );
    if let Some(mb) = text.split_whitespace().nth(2) {
        assert!(mb.parse::<u32>().unwrap() <= 16, "{text}");
    }
}

#[tokio::test]
async fn printing_gigabytes_is_cut_at_the_output_limit() {
    let run = python("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n").await;
    assert_eq!(run.exit, Exit::OutputLimit);
    assert_eq!(run.stdout.len(), 1024 * 1024);
    assert!(run.elapsed < Duration::from_secs(5));
}

#[tokio::test]
async fn tiocsti_cannot_push_input_to_a_terminal() {
    let code = "import fcntl, termios, sys\ntry:\n    fcntl.ioctl(0, termios.TIOCSTI, b'x')\n    print('INJECTED')\nexcept OSError as e:\n    print('refused')\n";
    let run = python(code).await;
    assert_eq!(out(&run).trim(), "refused", "{}", run.stderr_text());
}

/// The host's shared memory (tmpfs pages), in bytes.
fn host_shmem() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("Shmem:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap()
        * 1024
}

/// Runs `code` while sampling the host's shared memory; returns the run
/// and the highest rise seen.
async fn run_watching_shmem(language: Language, code: &str) -> (Run, u64) {
    let before = host_shmem();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(host_shmem().saturating_sub(before));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            peak
        })
    };
    let run = run(language, code, Limits::default_for(language)).await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    (run, watcher.await.unwrap())
}

#[tokio::test]
async fn a_gigabyte_written_to_dev_shm_and_tmp_ends_at_the_memory_limit() {
    // The attack from the review: 8 MB files in a loop, first to /dev/shm
    // (there is none), then to /tmp, whose pages the run's cgroup counts.
    let code = "import os\nfor d in ['/dev/shm', '/tmp']:\n    try:\n        for i in range(128):\n            with open(f'{d}/f{i}', 'wb') as f:\n                f.write(b'x' * (8 << 20))\n        print(d, 'WROTE 1 GB', flush=True)\n    except OSError as e:\n        print(d, 'refused', e.errno, flush=True)\n";
    let limit = Limits::default_for(Language::Python).memory_mb * 1024 * 1024;
    let (run, rise) = run_watching_shmem(Language::Python, code).await;
    let text = out(&run);
    assert!(text.starts_with("/dev/shm refused"), "{text}");
    assert!(!text.contains("WROTE"), "{text}");
    assert_eq!(run.exit, Exit::Memory, "{text} {}", run.stderr_text());
    assert!(rise < limit, "host shared memory rose {rise} bytes");
    let node_code = "const fs = require('fs');\ntry { fs.writeFileSync('/dev/shm/x', Buffer.alloc(1 << 20)); console.log('WROTE'); } catch (e) { console.log('refused', e.code); }\nconst b = Buffer.alloc(8 << 20, 120);\nfor (let i = 0; i < 128; i++) fs.writeFileSync('/tmp/f' + i, b);\nconsole.log('WROTE 1 GB');\n";
    let (node, rise) = run_watching_shmem(Language::JavaScript, node_code).await;
    assert!(out(&node).starts_with("refused"), "{}", out(&node));
    assert_eq!(node.exit, Exit::Memory, "{}", node.stderr_text());
    let limit = Limits::default_for(Language::JavaScript).memory_mb * 1024 * 1024;
    assert!(rise < limit, "host shared memory rose {rise} bytes");
}

#[tokio::test]
async fn dev_holds_only_the_few_devices_and_is_read_only() {
    let code = "import os, sys\nprint(sorted(os.listdir('/dev')))\ntry:\n    open('/dev/planted', 'w')\n    print('WROTE')\nexcept OSError:\n    print('refused')\nopen('/dev/null', 'w').write('fine')\nprint(len(open('/dev/urandom', 'rb').read(16)), open('/dev/stdin').read().strip())\n";
    let run = sandbox()
        .await
        .run(
            Language::Python,
            &[("main.py", code.as_bytes())],
            b"from stdin\n",
            Limits::default_for(Language::Python),
        )
        .await
        .unwrap();
    assert_eq!(run.exit, Exit::Code(0), "{}", run.stderr_text());
    assert_eq!(
        out(&run),
        "['fd', 'full', 'null', 'random', 'stderr', 'stdin', 'stdout', 'urandom', 'zero']\nrefused\n16 from stdin\n"
    );
    // Reading all of stdin through /dev/stdin, as many learners do in Node.
    let node = sandbox()
        .await
        .run(
            Language::JavaScript,
            &[(
                "main.js",
                b"console.log(require('fs').readFileSync('/dev/stdin', 'utf8').trim().split(' ').map(Number).reduce((a, b) => a + b));".as_slice(),
            )],
            b"1 2 3\n",
            Limits::default_for(Language::JavaScript),
        )
        .await
        .unwrap();
    assert_eq!(out(&node), "6\n", "{}", node.stderr_text());
}

#[tokio::test]
async fn dangerous_system_calls_get_eperm() {
    // keyctl, io_uring_setup, bpf, perf_event_open, ptrace, unshare, setns,
    // userfaultfd, mount on x86-64; and the same calls' x32 numbers.
    let code = "import ctypes, errno\nlibc = ctypes.CDLL(None, use_errno=True)\ncalls = {'keyctl': 250, 'io_uring_setup': 425, 'bpf': 321, 'perf_event_open': 298, 'ptrace': 101, 'unshare': 272, 'setns': 308, 'userfaultfd': 323, 'mount': 165}\nfor name, nr in calls.items():\n    r = libc.syscall(nr, 0, 0, 0, 0, 0)\n    print(name, r, errno.errorcode.get(ctypes.get_errno()))\n    r = libc.syscall(0x40000000 | nr, 0, 0, 0, 0, 0)\n    print('x32', name, r, errno.errorcode.get(ctypes.get_errno()))\n";
    let run = python(code).await;
    assert_eq!(run.exit, Exit::Code(0), "{}", run.stderr_text());
    let text = out(&run);
    for line in text.lines() {
        if line.starts_with("x32") {
            assert!(
                line.ends_with("EPERM") || line.ends_with("ENOSYS"),
                "{line}"
            );
        } else {
            assert!(line.ends_with("-1 EPERM"), "{line}");
        }
    }
    assert_eq!(text.lines().count(), 18, "{text}");
    // Node cannot reach them through a Python it starts either.
    let node = run_js(
        "const r = require('child_process').spawnSync('/usr/bin/python3', ['-c', 'import ctypes, errno; l = ctypes.CDLL(None, use_errno=True); l.syscall(250, 0, 0, 0, 0, 0); print(errno.errorcode[ctypes.get_errno()])']); console.log(String(r.stdout).trim());",
    )
    .await;
    assert_eq!(out(&node).trim(), "EPERM", "{}", node.stderr_text());
}

#[tokio::test]
async fn the_run_folders_are_private_to_the_sandbox_user() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let _ = sandbox().await;
    let root = std::env::temp_dir().join("weaverse-sandbox-tests");
    let meta = std::fs::metadata(&root).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    assert_eq!(meta.uid(), 65534);
}

#[tokio::test]
async fn a_tests_harness_runs_with_the_program_but_is_nowhere_it_can_read() {
    let sandbox = sandbox().await;
    let js = "const fs = require('fs');\nconst seen = [];\nfor (const f of fs.readdirSync('/work')) { if (fs.readFileSync('/work/' + f, 'utf8').includes('SEC' + 'RET')) seen.push(f); }\nfor (const fd of [4, '/proc/self/fd/4']) { try { fs.readFileSync(fd); seen.push(String(fd)); } catch (e) {} }\nconsole.log('seen:' + seen.join(','));\nfunction answer(n) { return n * 2; }\n";
    let run = sandbox
        .run_with_harness(
            Language::JavaScript,
            &[("main.js", js.as_bytes())],
            Some(b"console.log(answer(21)); // SECRET hidden test"),
            b"",
            Limits::default_for(Language::JavaScript),
        )
        .await
        .unwrap();
    assert_eq!(out(&run), "seen:\n42\n", "{}", run.stderr_text());
    let py = "import os\nseen = [f for f in os.listdir('/work') if 'SEC' + 'RET' in open('/work/' + f).read()]\ntry:\n    os.read(4, 100)\n    seen.append('fd4')\nexcept OSError:\n    pass\nprint('seen:' + ','.join(seen))\ndef answer(n):\n    return n * 2\n";
    let run = sandbox
        .run_with_harness(
            Language::Python,
            &[("main.py", py.as_bytes())],
            Some(b"print(answer(21))  # SECRET hidden test"),
            b"",
            Limits::default_for(Language::Python),
        )
        .await
        .unwrap();
    assert_eq!(out(&run), "seen:\n42\n", "{}", run.stderr_text());
}

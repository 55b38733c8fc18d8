//! Sandbox figures (bench/sandbox.sh runs it in release):
//! 1. start-up overhead: `python3 -c pass` and `node -e 0` bare, then the
//!    same programs through the whole sandbox chain (cgroup, seccomp,
//!    bubblewrap, limits), one at a time;
//! 2. throughput: the demo's code tasks' tests run and judged with their
//!    reference answers, `GRADING_SLOTS` at a time, for `BENCH_SECONDS`.

use std::{
    collections::HashMap,
    process::Stdio,
    time::{Duration, Instant},
};

use weaverse::assessments::{
    judge,
    sandbox::{Language, Limits, Sandbox},
};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0.0)
}

fn summary(name: &str, mut ms: Vec<f64>) -> f64 {
    ms.sort_by(|a, b| a.total_cmp(b));
    let mean = ms.iter().sum::<f64>() / ms.len().max(1) as f64;
    println!(
        "{name}: mean {mean:.1} ms, p50 {:.1} ms, p95 {:.1} ms ({} runs)",
        percentile(&ms, 0.5),
        percentile(&ms, 0.95),
        ms.len()
    );
    mean
}

#[derive(serde::Deserialize)]
struct DemoMission {
    course: String,
    topic: String,
    questions: Vec<DemoQuestion>,
}

#[derive(serde::Deserialize)]
struct DemoQuestion {
    kind: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    tests: Vec<DemoTest>,
}

#[derive(serde::Deserialize, Clone)]
struct DemoTest {
    input: String,
    harness: String,
    expected: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let secs: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let slots: usize = std::env::var("GRADING_SLOTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let root = std::env::temp_dir().join("weaverse-sandbox-bench");
    let sandbox = Sandbox::probe(&root, slots).await;
    if let Some(why) = sandbox.unusable() {
        anyhow::bail!("the sandbox is unusable: {why}");
    }
    println!(
        "machine: {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    println!("== start-up overhead");
    for (language, program, bare) in [
        (
            Language::Python,
            "pass\n",
            ["/usr/bin/python3", "-c", "pass"],
        ),
        (Language::JavaScript, "\n", ["/usr/bin/node", "-e", "0"]),
    ] {
        let mut plain = Vec::with_capacity(runs);
        let mut boxed = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            // The environment the sandbox gives (no inherited NODE_OPTIONS
            // or CA bundles to load).
            tokio::process::Command::new(bare[0])
                .args(&bare[1..])
                .env_clear()
                .env("PATH", "/usr/bin")
                .env("HOME", "/tmp")
                .env("LANG", "C.UTF-8")
                .stdout(Stdio::null())
                .status()
                .await?;
            plain.push(t.elapsed().as_secs_f64() * 1000.0);
            let run = sandbox
                .run(
                    language,
                    &[(language.main_file(), program.as_bytes())],
                    b"",
                    Limits::default_for(language),
                )
                .await?;
            boxed.push(run.elapsed.as_secs_f64() * 1000.0);
        }
        let a = summary(&format!("{} bare", language.as_str()), plain);
        let b = summary(&format!("{} in the sandbox", language.as_str()), boxed);
        println!("{} overhead: {:.1} ms per run", language.as_str(), b - a);
    }

    println!("== graded test runs ({slots} at a time, {secs} s)");
    let missions: Vec<DemoMission> =
        serde_json::from_str(include_str!("../src/assessments/demo_missions.json"))?;
    let answers: HashMap<String, String> =
        serde_json::from_str(include_str!("../tests/http/demo_answers.json"))?;
    let mut work = Vec::new();
    for m in missions {
        let Some(answer) = answers.get(&format!("{}|{}", m.course, m.topic)) else {
            continue;
        };
        for q in m.questions.into_iter().filter(|q| q.kind == "code") {
            let language = q
                .language
                .as_deref()
                .and_then(Language::parse)
                .unwrap_or(Language::JavaScript);
            let file = q.mode.as_deref() == Some("file");
            for t in q.tests {
                work.push((language, file, answer.clone(), t));
            }
        }
    }
    let sandbox = std::sync::Arc::new(sandbox);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..slots {
        let (sandbox, work) = (sandbox.clone(), work.clone());
        tasks.spawn(async move {
            let (mut done, mut accepted) = (0usize, 0usize);
            let mut i = worker;
            while Instant::now() < deadline {
                let (language, file, answer, test) = &work[i % work.len()];
                // As grading does: a file check's harness is the program;
                // a program's harness comes apart from it (fd 4).
                let (files, harness): (Vec<(&str, String)>, Option<&[u8]>) = if *file {
                    (
                        vec![
                            (language.main_file(), test.harness.clone()),
                            ("answer.txt", answer.clone()),
                        ],
                        None,
                    )
                } else {
                    (
                        vec![(language.main_file(), answer.clone())],
                        Some(test.harness.as_bytes()),
                    )
                };
                let borrowed: Vec<(&str, &[u8])> =
                    files.iter().map(|(n, b)| (*n, b.as_bytes())).collect();
                if let Ok(run) = sandbox
                    .run_with_harness(
                        *language,
                        &borrowed,
                        harness,
                        test.input.as_bytes(),
                        Limits::default_for(*language),
                    )
                    .await
                {
                    done += 1;
                    accepted += usize::from(judge(&run, &test.expected).as_str() == "accepted");
                }
                i += slots;
            }
            (done, accepted)
        });
    }
    let (mut done, mut accepted) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        let (d, a) = result?;
        done += d;
        accepted += a;
    }
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    println!(
        "graded test runs: {done} in {:.1} s = {:.0} per minute ({accepted} accepted; {} distinct tests, Node and Python)",
        minutes * 60.0,
        done as f64 / minutes,
        work.len()
    );
    Ok(())
}

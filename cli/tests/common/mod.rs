//! Runs the `kosmo` binary with a private home and project directory, never the user's own
//! configuration, and stdin closed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub struct Kosmo {
    pub home: tempfile::TempDir,
    pub project: tempfile::TempDir,
    env: Vec<(String, String)>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Kosmo {
    pub fn new() -> Self {
        Kosmo {
            home: tempfile::tempdir().unwrap(),
            project: tempfile::tempdir().unwrap(),
            env: Vec::new(),
        }
    }

    /// With the emulator's URL and key in the environment.
    pub fn with_clerk(url: &str, key: &str) -> Self {
        let mut kosmo = Self::new();
        kosmo.env("CLERK_API_URL", url);
        kosmo.env("CLERK_SECRET_KEY", key);
        kosmo
    }

    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn kosmo_home(&self) -> PathBuf {
        self.home.path().join(".kosmo")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kosmo"));
        command
            .args(args)
            .current_dir(self.project.path())
            .env_remove("CLERK_API_URL")
            .env_remove("CLERK_SECRET_KEY")
            .env("HOME", self.home.path())
            .env("KOSMO_HOME", self.kosmo_home())
            .stdin(Stdio::null());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().unwrap().into()
    }

    /// Runs with `input` piped on stdin.
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap().into()
    }

    /// `integrations:lua --eval code --json extra...`: exit code and envelope.
    pub fn lua(&self, code: &str, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["integrations:lua", "--eval", code, "--json"];
        args.extend_from_slice(extra);
        let run = self.run(&args);
        let json = run.json();
        (run.code, json)
    }

    pub fn write_project_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.project.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

pub fn assert_envelope_shape(envelope: &Value) {
    let object = envelope.as_object().expect("the envelope is an object");
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "success",
            "output",
            "error",
            "result",
            "execution_time_ms",
            "memory_usage",
            "integration_calls",
            "meta"
        ],
        "{envelope:#}"
    );
    assert!(envelope["success"].is_boolean());
    assert!(envelope["output"].is_string());
    assert!(envelope["execution_time_ms"].is_number());
    assert!(envelope["integration_calls"].is_array());
    assert!(envelope["meta"]["permission_bypassed"].is_boolean());
    assert!(envelope["meta"]["dry_run"].is_boolean());
    if envelope["success"] == Value::Bool(true) {
        assert!(envelope["error"].is_null());
        assert!(envelope["result"].is_array());
        assert!(envelope["memory_usage"].is_u64());
    } else {
        assert!(envelope["error"].is_string());
        assert!(envelope["result"].is_null());
        assert!(envelope["memory_usage"].is_null());
    }
    for call in envelope["integration_calls"].as_array().unwrap() {
        assert!(call["path"].as_str().unwrap().starts_with("integrations."));
        assert!(call["durationMs"].is_number());
        assert!(call["pacedMs"].is_number());
        let status = call["status"].as_str().unwrap();
        assert!(status == "ok" || status == "error");
        assert_eq!(call.get("error").is_some(), status == "error", "{call}");
        assert!(call["name"].is_string());
        assert!(call["group"].is_string());
    }
}

pub fn error_of(envelope: &Value) -> &str {
    envelope["error"].as_str().unwrap_or_default()
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

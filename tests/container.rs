//! The container image and the systemd unit, without a container engine: the Dockerfile's
//! runtime steps (its user, volume, environment, command and health check) are run with the
//! test build, as a non-root user, on a read-only root with only the data volume writable; the
//! unit's command line and the example settings pass `fireshare config check`.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The values of the Dockerfile's last stage: `INSTRUCTION` → its argument text.
fn runtime_stage() -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile")).unwrap();
    let last = text.rsplit("\nFROM ").next().unwrap();
    let mut steps = Vec::new();
    let mut pending = String::new();
    for line in last.lines().skip(1) {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        pending.push_str(line.trim_end_matches('\\'));
        if line.ends_with('\\') {
            pending.push(' ');
            continue;
        }
        let (instruction, argument) = pending.split_once(' ').unwrap();
        steps.push((instruction.to_string(), argument.trim().to_string()));
        pending.clear();
    }
    steps
}

fn step<'a>(steps: &'a [(String, String)], instruction: &str) -> &'a str {
    steps
        .iter()
        .find(|(i, _)| i == instruction)
        .map(|(_, a)| a.as_str())
        .unwrap_or_else(|| panic!("the Dockerfile's runtime stage has no {instruction}"))
}

/// An exec-form argument list (`["a", "b"]`).
fn exec_form(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not an exec-form list ({e}): {text}"))
}

/// `command` run as `uid:gid` in a mount namespace of its own whose root is read-only but for
/// `volume`, which is mounted where the image mounts its volume (`at`).
fn confined(uid: &str, volume: &Path, at: &str, command: &[String]) -> Command {
    let script = format!(
        "mount --bind '{}' '{at}' && mount -o remount,ro,bind / && exec setpriv --reuid={uid} --regid={uid} --clear-groups -- \"$@\"",
        volume.display()
    );
    let mut confined = Command::new("unshare");
    confined
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
            "sh",
        ])
        .args(command);
    confined
}

#[test]
fn the_image_runs_as_its_user_on_a_read_only_root() {
    assert!(
        running_as_root(),
        "this test runs the image's steps with unshare and setpriv, as root (CI does)"
    );
    let steps = runtime_stage();
    let (uid, gid) = step(&steps, "USER").split_once(':').unwrap();
    assert_ne!(uid, "0", "the image must not run as root");
    assert_eq!(uid, gid);
    let volume_at = exec_form(step(&steps, "VOLUME")).remove(0);
    let (env_name, env_value) = step(&steps, "ENV").split_once('=').unwrap();
    assert_eq!(
        (env_name, env_value),
        ("FIRESHARE_DATA_DIR", volume_at.as_str())
    );
    let entrypoint = exec_form(step(&steps, "ENTRYPOINT"));
    assert_eq!(entrypoint, ["/usr/local/bin/fireshare"]);
    let mut cmd = exec_form(step(&steps, "CMD"));
    let healthcheck = step(&steps, "HEALTHCHECK");
    let mut probe = exec_form(healthcheck.split_once("CMD ").unwrap().1);

    // The volume's mount point must exist in the image: here a directory of the host, made for
    // the test the way the image makes /data.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let volume = dir.path().join("volume");
    std::fs::create_dir(&volume).unwrap();
    let owner: u32 = uid.parse().unwrap();
    std::os::unix::fs::chown(&volume, Some(owner), Some(owner)).unwrap();
    let mount_point = dir.path().join("data");
    std::fs::create_dir(&mount_point).unwrap();
    let at = mount_point.to_str().unwrap().to_string();

    // The image's command, listening on loopback (tests listen nowhere else) instead of every
    // address; the binary of this build instead of /usr/local/bin/fireshare.
    let port = common::free_port();
    // A copy the image's user can reach whatever the checkout's permissions (a clone under a
    // private home, say).
    let binary = dir.path().join("fireshare");
    std::fs::copy(env!("CARGO_BIN_EXE_fireshare"), &binary).unwrap();
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
    let binary = binary.to_str().unwrap().to_string();
    let image_listen = cmd.iter().position(|a| a == "--listen").unwrap() + 1;
    assert_eq!(cmd[image_listen], "0.0.0.0:8080");
    cmd[image_listen] = format!("127.0.0.1:{port}");
    assert_eq!(probe[0], entrypoint[0]);
    probe[0] = binary.clone();
    let probe_url = probe.last_mut().unwrap();
    *probe_url = probe_url.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let log = dir.path().join("server.log");
    let mut server = confined(uid, &volume, &at, &[vec![binary.clone()], cmd].concat())
        .env(env_name, &at)
        .current_dir("/")
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let healthy = confined(uid, &volume, &at, &probe)
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        if healthy {
            break;
        }
        if let Some(status) = server.try_wait().unwrap() {
            panic!(
                "the server exited ({status}): {}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let ready: Value = reqwest::blocking::get(format!("http://127.0.0.1:{port}/readyz"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(ready["ledger"], "ok", "the ledger is written on the volume");
    // The image's user administers the server through the same volume.
    let sql = confined(
        uid,
        &volume,
        &at,
        &[binary.clone(), "sql".into(), "CREATE SHARE s".into()],
    )
    .env(env_name, &at)
    .output()
    .unwrap();
    assert!(
        sql.status.success(),
        "{}",
        String::from_utf8_lossy(&sql.stderr)
    );
    // SIGTERM, as `docker stop` sends (STOPSIGNAL): a clean exit.
    assert_eq!(step(&steps, "STOPSIGNAL"), "SIGTERM");
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "{status}: {}",
        std::fs::read_to_string(&log).unwrap()
    );
    // Everything it wrote is on the volume, the user's, private.
    let catalog = volume.join("catalog.db");
    let meta = std::fs::metadata(&catalog).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (owner, 0o600));
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(!log_text.contains("Read-only file system"), "{log_text}");
}

fn running_as_root() -> bool {
    // SAFETY: geteuid(2) reads the process's effective user id.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn the_systemd_unit_and_the_example_settings_check_out() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let unit = std::fs::read_to_string(root.join("deploy/fireshare.service")).unwrap();
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    let args: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(args[..2], ["/usr/local/bin/fireshare", "serve"]);
    let config_at = args.iter().position(|a| *a == "--config").unwrap() + 1;
    assert_eq!(args[config_at], "/etc/fireshare/fireshare.toml");
    assert!(
        unit.contains("ExecReload=/bin/kill -HUP $MAINPID"),
        "SIGHUP reloads TLS"
    );
    assert!(unit.contains("KillSignal=SIGTERM"));
    // The unit's command with the example settings in place of /etc/fireshare/fireshare.toml.
    let check = common::fireshare()
        .args(["config", "check", "--config"])
        .arg(root.join("deploy/fireshare.toml"))
        .env(
            "FIRESHARE_DATA_DIR",
            unit.lines()
                .find_map(|l| l.strip_prefix("Environment=FIRESHARE_DATA_DIR="))
                .unwrap(),
        )
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(
        check.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    common::assert_lines(
        &said,
        &[
            "data-dir = /var/lib/fireshare  (environment)",
            "listen = 0.0.0.0:8443  (config file)",
            "tls-cert = /etc/fireshare/tls/fullchain.pem  (config file)",
            "metrics-listen = 10.0.0.5:9090  (config file)",
        ],
    );
}

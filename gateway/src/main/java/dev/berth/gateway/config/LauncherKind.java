package dev.berth.gateway.config;

/** Which launcher starts session backends. */
public enum LauncherKind {
  /** Docker when an engine answers, else process; the choice and its reason are logged. */
  AUTO,
  DOCKER,
  PROCESS
}

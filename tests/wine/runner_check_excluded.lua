-- Exclusions for tests/wine/runner_check_spec.lua (the runner's own check).
return {
  ["hooks excluded: never runs"] = "checks that an excluded test is not run",
  ["hooks excluded block"] = "checks that an excluded block's body is not run",
  ["a stale exclusion must error"] = "checks that an entry naming no test is an error",
}

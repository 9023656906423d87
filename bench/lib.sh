# shellcheck shell=bash
# Shell functions shared by bench/run.sh and bench/profile.sh (sourced, not run); ci/suites.d/faults.sh
# uses lua_headers too.

# interpreter FLAVOUR: the Debian interpreter of a Lua flavour.
interpreter() {
  case $1 in
    lua51) echo lua5.1 ;; lua52) echo lua5.2 ;; lua53) echo lua5.3 ;; lua54) echo lua5.4 ;;
    luajit) echo luajit ;; *) echo "unknown flavour $1" >&2; return 1 ;;
  esac
}

# lua_headers FLAVOUR: the directory of a flavour's Lua headers (Debian's -dev packages).
lua_headers() {
  case $1 in
    lua51) echo /usr/include/lua5.1 ;; lua52) echo /usr/include/lua5.2 ;;
    lua53) echo /usr/include/lua5.3 ;; lua54) echo /usr/include/lua5.4 ;;
    luajit) echo /usr/include/luajit-2.1 ;;
  esac
}

# wait_port FILE PID TRIES: the port a benchmark server printed ("PORT n") to FILE, polled every
# 20 ms up to TRIES times; empty if PID ended first or the tries ran out.
wait_port() {
  local file=$1 pid=$2 tries=$3 port=""
  for _ in $(seq 1 "$tries"); do
    port=$(awk '/^PORT/{print $2; exit}' "$file")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  echo "$port"
}

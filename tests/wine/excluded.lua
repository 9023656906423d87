-- Specs that ci/suites.d/wine.sh does not run under Wine, each with why (docs/windows.md has the
-- evidence). Keys are busted's full names (describe names and test name joined by spaces); a
-- key that names no test or block fails the run, so this list cannot outlive its specs.
return {
  ["address literals keeps the scope id of a link-local address, by number or interface name"] = "names "
    .. "Linux's loopback interface 'lo'; Windows' if_nametoindex takes NDIS names (Wine: 'lo' is "
    .. "'loopback_1'), tests/wine/windows_spec.lua has the Windows form",
  ["IPv6 link-local between network namespaces"] = "Linux only: creates network namespaces and a "
    .. "veth pair with `ip netns` as root",
  ["dns"] = "the spec starts tests/dns_server.py with python3 through a POSIX shell (io.popen), "
    .. "which a Windows Lua's io.popen (cmd.exe) cannot reach; wine.sh runs "
    .. "the server on the Linux side and tests/wine/windows_spec.lua against it instead",
}

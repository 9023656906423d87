/* A stand-in bcryptprimitives.dll for the Wine suite only (never shipped). Rust's std on
 * Windows fills its random keys (HashMap seeds) with ProcessPrng from bcryptprimitives.dll,
 * which Windows has had since 10 but Wine 8.0 does not: loading our module then fails with
 * "module not found" (WINEDEBUG=err+module names the missing DLL). Placed next to lua.exe this
 * DLL provides ProcessPrng on top of RtlGenRandom (advapi32's SystemFunction036), which Wine
 * implements. Build: x86_64-w64-mingw32-gcc -shared -o bcryptprimitives.dll this.c -ladvapi32 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  /* RtlGenRandom takes a ULONG; ProcessPrng a SIZE_T. */
  while (length > 0) {
    ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
    if (!SystemFunction036(data, chunk))
      return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}

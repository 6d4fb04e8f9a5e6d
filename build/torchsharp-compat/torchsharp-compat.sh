#!/usr/bin/env bash
# Makes TorchSharp's libLibTorchSharp.so load on systems whose libstdc++ lacks GLIBCXX_3.4.32
# (Debian 12 stops at 3.4.30). Applied by the build to the *copied* library in an output folder,
# never to the NuGet cache. A no-op when the system libstdc++ is new enough or the copy is patched.
#   1. clear the version of the only symbol that needs 3.4.32 (_ZSt21ios_base_library_initv);
#   2. add a tiny library that defines that symbol (found through the library's RUNPATH $ORIGIN);
#   3. mark the GLIBCXX_3.4.32 requirement weak (VER_FLG_WEAK) so the loader does not insist on it.
set -euo pipefail
lib=$1
dir=$(dirname "$lib")
here=$(cd "$(dirname "$0")" && pwd)

stdcxx=$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
[ -n "$stdcxx" ] || stdcxx=/usr/lib/x86_64-linux-gnu/libstdc++.so.6
if grep -qa 'GLIBCXX_3\.4\.32' "$stdcxx" 2>/dev/null; then
  exit 0 # new enough: nothing to do
fi
if ! grep -qa 'GLIBCXX_3\.4\.32' "$lib"; then
  exit 0 # this TorchSharp build does not need it
fi
for tool in patchelf readelf g++; do
  command -v "$tool" >/dev/null || { echo "error: TorchSharp needs a libstdc++ compat step on this system; install '$tool' (apt-get install -y patchelf binutils g++), or run scripts/prereqs.sh." >&2; exit 1; }
done

shim="$dir/libmic_iosinit.so"
if [ ! -f "$shim" ]; then
  g++ -O2 -shared -fPIC -o "$shim" "$here/ios_base_library_init.cpp"
fi
if readelf -dW "$lib" | grep -q 'libmic_iosinit.so'; then
  exit 0 # already patched
fi

patchelf --clear-symbol-version _ZSt21ios_base_library_initv "$lib"
patchelf --add-needed libmic_iosinit.so "$lib"

# Offset of .gnu.version_r in the file, then of the GLIBCXX_3.4.32 Vernaux entry inside it.
sec_off=$(readelf -SW "$lib" | sed 's/^ *\[ *[0-9]*\]//' | awk '$1==".gnu.version_r" {print $4}')
entry_off=$(readelf -VW "$lib" | awk '/Version needs section/ {inneed=1} inneed && /Name: GLIBCXX_3\.4\.32/ {sub(":", "", $1); print $1; exit}')
if [ -z "$sec_off" ] || [ -z "$entry_off" ]; then
  echo "error: could not locate the GLIBCXX_3.4.32 version requirement in $lib" >&2
  exit 1
fi
# Vernaux = { u32 vna_hash; u16 vna_flags; u16 vna_other; u32 vna_name; u32 vna_next } → flags at +4.
flags_at=$(( 0x$sec_off + entry_off + 4 ))
printf '\x02' | dd of="$lib" bs=1 seek="$flags_at" conv=notrunc status=none
echo "patched $lib for libstdc++ without GLIBCXX_3.4.32"

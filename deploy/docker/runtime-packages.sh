#!/bin/sh
# Prints, one per line and sorted, the Debian/Ubuntu packages that own the
# shared libraries the given binaries load (ldd). The Docker build uses it so
# the runtime stage installs exactly the runtime libraries of what was built,
# from the same package set scripts/bootstrap installed. Libraries outside
# dpkg (e.g. a LibTorch unpacked under /opt) are skipped: copy those yourself.
# Fails if a library cannot be resolved at all ("not found").
#   runtime-packages.sh BINARY...
set -eu
[ $# -gt 0 ] || { echo "usage: runtime-packages.sh BINARY..." >&2; exit 2; }
missing=0
libs=$(for bin in "$@"; do ldd "$bin"; done | awk '
  /=> not found/ { print "MISSING " $1; next }
  /=> \// { print $3; next }
  /^[[:space:]]*\// { print $1 }' | sort -u)
echo "$libs" | grep -q '^MISSING' && {
  echo "runtime-packages: unresolved libraries:" >&2
  echo "$libs" | sed -n 's/^MISSING /  /p' >&2
  # libcuda.so.1 comes from the host driver at run time (nvidia-container-toolkit).
  echo "$libs" | sed -n 's/^MISSING //p' | grep -qv '^libcuda\.so' && missing=1
}
for lib in $(echo "$libs" | grep -v '^MISSING'); do
  real=$(readlink -f "$lib")
  for candidate in "$real" "$lib" "/usr$lib" "${real#/usr}"; do
    owner=$(dpkg -S "$candidate" 2>/dev/null | head -n1 | cut -d: -f1) && [ -n "$owner" ] && {
      echo "$owner"
      break
    }
  done
done | sort -u
exit $missing

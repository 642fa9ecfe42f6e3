#!/usr/bin/env bash
# The third-party readers that the format tests compare rivet's Parquet files with, beyond
# DuckDB (an npm devDependency) and pyarrow (up.sh): polars (PyPI, pinned in
# requirements.txt) and parquet-java (Maven Central), built from test/readers/parquet-java
# into its target/ folder. Idempotent: installs polars only when it does not import, and
# rebuilds the Java reader only when its pom or sources are newer than the last build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
reader="$here/../readers/parquet-java"
stamp="$reader/target/lib/.complete"

if ! python3 -c 'import polars' >/dev/null 2>&1; then
  echo "parquet-java.sh: installing polars (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" 2>&1 | grep -v 'Running pip as the' >&2 || true
  python3 -c 'import polars' >/dev/null
fi

for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
      echo "parquet-java.sh: installing openjdk-17-jdk-headless and maven from Debian" >&2
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null
    else
      echo "parquet-java.sh: $tool not found (install openjdk-17-jdk-headless and maven)" >&2
      exit 1
    fi
  fi
done

if [ ! -f "$stamp" ] || [ -n "$(find "$reader/pom.xml" "$reader/src" -newer "$stamp" -print -quit)" ]; then
  echo "parquet-java.sh: building the parquet-java reader (Maven Central)" >&2
  rm -rf "$reader/target"
  (cd "$reader" && mvn -q -B package) >&2
  touch "$stamp"
fi

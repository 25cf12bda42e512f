#!/usr/bin/env bash
# Every tracked C++ file is as clang-format (.clang-format at the top) would
# write it; run `git ls-files '*.cc' '*.h' | xargs clang-format -i` to mend.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z '*.cc' '*.h' | xargs -0 clang-format --dry-run -Werror
echo "format: $(git ls-files '*.cc' '*.h' | wc -l) files as clang-format writes them"

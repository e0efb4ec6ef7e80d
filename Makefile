# Thin wrapper around CMake (the README's two commands).
#   make demo   install what is missing, build, run the default scenario
#   make test   install what is missing, build, run the whole suite
#               (Release, then again under ASan+UBSan, then the
#               determinism matrix: gcc/clang x -O0/-O2, .ci/determinism,
#               then each libFuzzer target for 60 s, .ci/fuzz)
#   make goldens  regenerate tests/golden/ from scenarios/ (.ci/goldens;
#               only for a behaviour change the commit message explains)
#   make explorer-screenshots  the explorer page's PNGs in docs/img/
#               (headless chromium; after a change to the page)
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2
OUT        ?= out

.PHONY: all deps build build-ctsim demo test test-release test-asan test-determinism test-fuzz test-exact-walks goldens explorer-screenshots clean

all: build

deps:
	@.ci/install-deps

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG"

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

# Only what the demo runs: the ctsim binary, not the tests and benchmarks.
build-ctsim: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS) --target ctsim

demo: build-ctsim
	@mkdir -p $(OUT)
	$(BUILD)/ctsim run scenarios/seed-walkthrough.json --trace $(OUT)/seed-walkthrough.jsonl \
	  --events $(OUT)/seed-walkthrough.events --snapshots $(OUT)/seed-walkthrough.snapshots
	@echo "outputs: $(OUT)/seed-walkthrough.jsonl (trace), $(OUT)/seed-walkthrough.events (conntrack -E), $(OUT)/seed-walkthrough.snapshots (conntrack -L/-S)"

test-release: build
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure

$(ASAN_BUILD)/Makefile:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCTSIM_SANITIZE=ON -DCTSIM_BENCH=OFF

test-asan: deps $(ASAN_BUILD)/Makefile
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest -j $(JOBS) --output-on-failure -LE kernel

# The matrix's gcc -O2 and gcc -O0 are the Release and sanitizer builds
# that test-release and test-asan made (when they exist): two builds fewer.
test-determinism: deps
	DET_BIN_gcc_release=$$([ -x $(BUILD)/ctsim ] && echo $(BUILD)/ctsim) \
	DET_BIN_gcc_debug=$$([ -x $(ASAN_BUILD)/ctsim ] && echo $(ASAN_BUILD)/ctsim) .ci/determinism

test-fuzz: deps
	JOBS=$(JOBS) .ci/fuzz

goldens: build-ctsim
	CTSIM=$(BUILD)/ctsim .ci/goldens

explorer-screenshots: build-ctsim
	tools/explorer/screenshots.sh $(BUILD)/ctsim

test: test-release test-asan test-determinism test-fuzz

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(OUT) build-det build-fuzz

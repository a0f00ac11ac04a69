# sam build runs one target per function (Metadata: BuildMethod: makefile) with ARTIFACTS_DIR set; the artifact is
# the shaded jar in lib/ (on the Lambda class path) and the configuration file at /var/task/config/reclaim.yaml.
# The tests do not run here: `mvn -B -ntp verify` runs them.
MVN ?= mvn
JAR := target/reclaim.jar
SOURCES := pom.xml $(shell find src/main config -type f 2>/dev/null)

.PHONY: build-CleanupFunction build-RetryFunction build-WorkerFunction artifact

build-CleanupFunction: artifact
build-RetryFunction: artifact
build-WorkerFunction: artifact

artifact: $(JAR)
	test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 2; }
	mkdir -p "$(ARTIFACTS_DIR)/lib" "$(ARTIFACTS_DIR)/config"
	cp $(JAR) "$(ARTIFACTS_DIR)/lib/reclaim.jar"
	cp config/reclaim.yaml "$(ARTIFACTS_DIR)/config/reclaim.yaml"

# -Dmaven.test.skip also skips compiling the tests and resolving the test-only services.
$(JAR): $(SOURCES)
	$(MVN) -B -ntp -q -Dmaven.test.skip=true package

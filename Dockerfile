# syntax=docker/dockerfile:1
#
# The streamrec image: Flink 2.2 with
#   /opt/flink/usrlib/streamrec-job.jar   the job, for the Flink Kubernetes Operator (application mode)
#                                         and 'flink run' (entry class io.streamrec.job.JobMain)
#   /opt/streamrec/bin/streamrec          the command line (serve, tail, produce, generate, run, backfill),
#                                         on the PATH
#   /opt/streamrec/conf/streamrec.yaml    the example configuration
#   /var/lib/streamrec                    owned by the flink user: checkpoints and scratch of 'streamrec run'
#
#   docker build -t streamrec:0.1.0 .
#
# The image's entry point is Flink's: 'jobmanager' and 'taskmanager' start Flink; any other command
# (e.g. 'streamrec serve ...') is run as given. Everything runs as the flink user (uid 9999). The build stage has no nvcc, so the CUDA
# backend is left out and trainer.backend=auto runs on the CPU.
#
# For a GPU (the TaskManager of k8s/flinkdeployment.yaml, docker-compose.gpu.yml), build the CUDA
# backend in: the build stage then has the CUDA toolkit, whose nvcc compiles the kernels to PTX.
# At run time the backend needs only the driver's libcuda.so.1, which the NVIDIA container runtime
# mounts into a container that asks for a GPU with compute capability:
#
#   docker build --build-arg BACKENDS=cuda -t streamrec:0.1.0-cuda .

ARG BACKENDS=cpu

FROM maven:3.9-eclipse-temurin-17 AS build-cpu

FROM nvidia/cuda:13.0.0-devel-ubuntu24.04 AS build-cuda
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jdk-headless ca-certificates curl unzip \
 && rm -rf /var/lib/apt/lists/*

FROM build-${BACKENDS} AS build
WORKDIR /src
COPY . .
# The Maven cache mount keeps downloaded dependencies between builds. 'install' builds the job jar
# (flink-job) and puts the modules in the local repository, which the second command resolves the
# command line's class path (cli) from.
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -q -DskipTests install \
 && ./mvnw -B -q -pl cli dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory=/out/streamrec/lib \
 && cp -r cli/target/classes /out/streamrec/classes \
 && cp flink-job/target/streamrec-job.jar /out/streamrec-job.jar

FROM flink:2.2.0-java17
COPY --from=build /out/streamrec-job.jar /opt/flink/usrlib/streamrec-job.jar
COPY --from=build /out/streamrec/lib /opt/streamrec/lib
COPY --from=build /out/streamrec/classes /opt/streamrec/classes
COPY examples/streamrec.yaml /opt/streamrec/conf/streamrec.yaml

# The command line, with the --add-opens flags of the repository's ./streamrec launcher.
COPY --chmod=755 <<'EOF' /opt/streamrec/bin/streamrec
#!/usr/bin/env bash
# The streamrec command line in the image: runs io.streamrec.cli.StreamrecCli.
#   streamrec serve --bootstrap-servers kafka:9092 --bind 0.0.0.0 --port 8080
#   streamrec --help
# STREAMREC_JAVA_OPTS adds JVM options (e.g. -Xmx4g); STREAMREC_HOME moves the install (/opt/streamrec).
set -euo pipefail
home="${STREAMREC_HOME:-/opt/streamrec}"

# Flink's serializers reflect into these JDK packages on Java 17.
opens=(java.base/java.lang java.base/java.lang.invoke java.base/java.lang.reflect java.base/java.io
       java.base/java.net java.base/java.nio java.base/sun.nio.ch java.base/java.text java.base/java.time
       java.base/java.util java.base/java.util.concurrent java.base/java.util.concurrent.atomic
       java.base/java.util.concurrent.locks java.base/java.math java.base/java.security)
jvm=()
for p in "${opens[@]}"; do jvm+=("--add-opens=$p=ALL-UNNAMED"); done

exec java ${STREAMREC_JAVA_OPTS:-} "${jvm[@]}" \
  -cp "$home/classes:$home/lib/*" \
  io.streamrec.cli.StreamrecCli "$@"
EOF

USER root
RUN mkdir -p /var/lib/streamrec && chown flink:flink /var/lib/streamrec
USER flink
ENV PATH="/opt/streamrec/bin:${PATH}"

# syntax=docker/dockerfile:1
# The MIC serving silo (Orleans + Kafka consumer + serving + HTTP API).
# Ubuntu 24.04 ("noble") bases: their libstdc++ already has GLIBCXX_3.4.32, so libtorch loads without
# the Debian 12 compat step (build/torchsharp-compat does nothing there). Tags are pinned; bump them together.
# Build from the repository root:  docker build -f deploy/silo.Dockerfile -t mic-streaming/silo .

FROM mcr.microsoft.com/dotnet/sdk:10.0.100-noble AS build
# Native build of the Faiss shim (src/MIC.Streaming.Faiss/native) needs a compiler and Faiss headers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ libfaiss-dev libopenblas-dev patchelf binutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Restore layer first: it only changes when a project file or a package version changes.
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/MIC.Streaming.Core/MIC.Streaming.Core.csproj src/MIC.Streaming.Core/
COPY src/MIC.Streaming.Retrieval/MIC.Streaming.Retrieval.csproj src/MIC.Streaming.Retrieval/
COPY src/MIC.Streaming.Faiss/MIC.Streaming.Faiss.csproj src/MIC.Streaming.Faiss/
COPY src/MIC.Streaming.Model/MIC.Streaming.Model.csproj src/MIC.Streaming.Model/
COPY src/MIC.Streaming.Ingestion/MIC.Streaming.Ingestion.csproj src/MIC.Streaming.Ingestion/
COPY src/MIC.Streaming.Hosting/MIC.Streaming.Hosting.csproj src/MIC.Streaming.Hosting/
COPY src/MIC.Streaming.Silo/MIC.Streaming.Silo.csproj src/MIC.Streaming.Silo/
COPY grains/MIC.Streaming.Grains.Abstractions/MIC.Streaming.Grains.Abstractions.csproj grains/MIC.Streaming.Grains.Abstractions/
COPY grains/MIC.Streaming.Grains/MIC.Streaming.Grains.csproj grains/MIC.Streaming.Grains/
COPY grains/MIC.Streaming.Trainer/MIC.Streaming.Trainer.csproj grains/MIC.Streaming.Trainer/
RUN dotnet restore src/MIC.Streaming.Silo/MIC.Streaming.Silo.csproj
COPY src/ src/
COPY grains/ grains/
RUN dotnet publish src/MIC.Streaming.Silo/MIC.Streaming.Silo.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0.0-noble AS runtime
# Faiss + OpenBLAS at run time for the shim; curl for the container health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libfaiss-dev libopenblas0 libgomp1 curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# Non-root (the image's built-in "app" user, uid 1654); the root filesystem can be read-only:
# the silo writes only to the model store volume (/models) and /tmp.
USER app
ENV ASPNETCORE_URLS=http://+:8080 \
    OMP_WAIT_POLICY=PASSIVE \
    DOTNET_gcServer=0 \
    DOTNET_gcConcurrent=1 \
    Silo__ModelStore=/models
VOLUME ["/models"]
EXPOSE 8080 11111 30000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD curl -fsS http://127.0.0.1:8080/health/live || exit 1
ENTRYPOINT ["dotnet", "mic-silo.dll"]

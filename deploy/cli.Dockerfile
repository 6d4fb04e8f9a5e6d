# syntax=docker/dockerfile:1
# The `mic` CLI (producer replay, training, publishing, benchmarks).
# Build from the repository root:  docker build -f deploy/cli.Dockerfile -t mic-streaming/cli .
# CUDA: --build-arg TORCH_BACKEND=cuda builds against TorchSharp-cuda-linux (needs an NVIDIA base
# image and driver at run time; not served on the reference machine, so not built there).

FROM mcr.microsoft.com/dotnet/sdk:10.0.100-noble AS build
ARG TORCH_BACKEND=cpu
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ libfaiss-dev libopenblas-dev patchelf binutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/ src/
COPY grains/ grains/
RUN dotnet publish src/MIC.Streaming.Cli/MIC.Streaming.Cli.csproj -c Release -p:MicTorchBackend=${TORCH_BACKEND} -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0.0-noble AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libfaiss-dev libopenblas0 libgomp1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
USER app
ENV OMP_WAIT_POLICY=PASSIVE
ENTRYPOINT ["dotnet", "mic.dll"]

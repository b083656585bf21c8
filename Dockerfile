# ModelService API image: build with the .NET SDK, run on the ASP.NET Core runtime as the non-root `app` user.
#   docker build -t modelservice:local .
#   docker run -p 8080:8080 -p 8081:8081 -v modelservice-data:/data modelservice:local   (8081: gRPC, HTTP/2)

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore in its own layer: it only reruns when the build settings or a project file change.
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/Model/Model.csproj src/Model/
COPY src/Api/Api.csproj src/Api/
RUN dotnet restore src/Api/Api.csproj -r linux-x64

COPY src/ src/
RUN dotnet publish src/Api/Api.csproj -c Release -r linux-x64 --self-contained false --no-restore -o /app

# LibTorch ships test, Python-binding and mobile backends that nothing here loads; libLibTorchSharp.so needs
# only libtorch, libtorch_cpu, libc10 and libgomp. ldd proves the remaining libraries still resolve, and cmp
# proves the runtime image's libstdc++ needs no GLIBCXX patch: the glue library ships exactly as packaged.
RUN cd /app \
 && rm libtorch_python.so libshm.so libtorchbind_test.so libjitbackend_test.so libbackend_with_compiler.so \
       libaoti_custom_ops.so libnnapi_backend.so libtorch_global_deps.so \
 && if ldd libLibTorchSharp.so libtorch_cpu.so | grep 'not found'; then exit 1; fi \
 && cmp libLibTorchSharp.so /root/.nuget/packages/torchsharp/*/runtimes/linux-x64/native/libLibTorchSharp.so

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
ENV ASPNETCORE_ENVIRONMENT=Production \
    ASPNETCORE_HTTP_PORTS=8080 \
    Storage__Root=/data

# A named volume mounted here copies this folder's ownership, so the app user can write to it.
RUN mkdir /data && chown "$APP_UID:$APP_UID" /data
VOLUME /data

WORKDIR /app
COPY --from=build /app ./

USER $APP_UID
EXPOSE 8080
# gRPC (Open Inference Protocol, HTTP/2 cleartext): Inference:GrpcPort.
EXPOSE 8081

# The runtime image has no curl or wget; bash's /dev/tcp is enough for one GET on loopback.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/ready HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && IFS= read -r status <&3 && [[ $status == 'HTTP/1.1 200 '* ]]"]

ENTRYPOINT ["dotnet", "ModelService.Api.dll"]

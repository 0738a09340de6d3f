# WalverBot: build and test with the SDK, run on the ASP.NET runtime as a non-root user.
#   docker build -t walverbot .
#   docker run: see README.md ("Running with Docker") and docs/operations.md

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# The platform the image runs on: only its native SQLite and libsodium are published (linux-arm64 on ARM hosts).
ARG RID=linux-x64
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Restore first, from the project files alone, so the package layer is reused while only code changes.
COPY global.json Directory.Build.props Directory.Packages.props WalverBot.sln .editorconfig ./
COPY src/WalverBot/WalverBot.csproj src/WalverBot/
COPY src/WalverBot.Discord/WalverBot.Discord.csproj src/WalverBot.Discord/
COPY tests/WalverBot.Testing/WalverBot.Testing.csproj tests/WalverBot.Testing/
COPY tests/WalverBot.Tests/WalverBot.Tests.csproj tests/WalverBot.Tests/
COPY tests/WalverBot.Discord.Tests/WalverBot.Discord.Tests.csproj tests/WalverBot.Discord.Tests/
# The app's restore comes last: it adds the RID target to the assets the test restores also write.
RUN dotnet restore tests/WalverBot.Tests/WalverBot.Tests.csproj \
 && dotnet restore tests/WalverBot.Discord.Tests/WalverBot.Discord.Tests.csproj \
 && dotnet restore src/WalverBot/WalverBot.csproj -r $RID
# README.md: its outcome and answer tables are checked by the tests. config/ holds only the defaults (.dockerignore).
COPY README.md ./
COPY config/ config/
COPY src/ src/
COPY tests/ tests/
# deploy/: the example deployment (compose, Prometheus, Grafana) is checked by the tests; none of it reaches the image.
COPY deploy/ deploy/
# The image is only built from code that passes its tests. (The disk-full drill skips itself: no tmpfs mount in a build.)
# Tests that run a local EVM chain (trait Needs=anvil) are left to CI: anvil comes from npm, which the SDK image lacks;
# .ci/run installs it and runs them.
RUN dotnet test tests/WalverBot.Discord.Tests/WalverBot.Discord.Tests.csproj --configuration Release --no-restore \
 && dotnet test tests/WalverBot.Tests/WalverBot.Tests.csproj --configuration Release --no-restore --filter "Needs!=anvil"
# The same command .ci/run runs, so a broken publish shows up in CI without a Docker engine. The project file keeps
# symbols, XML docs, web.config and config/appsettings.{Environment}.json out of the output.
RUN dotnet publish src/WalverBot/WalverBot.csproj --configuration Release --no-restore -r $RID --self-contained false \
    --output /app/publish -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
# Kestrel listens where Urls says (config/appsettings.json: http://0.0.0.0:8080). The base image also sets
# ASPNETCORE_HTTP_PORTS=8080; two settings make ASP.NET Core warn "Overriding HTTP_PORTS" at every start.
# Secrets (Discord__Token, Walver__ApiKey, declared verifications' secrets) come from the environment at run time,
# never from a file in the image.
ENV ASPNETCORE_HTTP_PORTS= \
    ConnectionStrings__WalverBot="Data Source=/app/data/walverbot.db" \
    DOTNET_gcServer=0 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
COPY --from=build /app/publish .
# The aspnet image's non-root user "app" is uid/gid $APP_UID (1654); the database volume belongs to it. USER is numeric
# so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
RUN mkdir -p /app/data && chown $APP_UID:$APP_UID /app/data
USER $APP_UID
VOLUME /app/data
EXPOSE 8080
# The bot's own probe: GET http://127.0.0.1:8080/healthz, exit 0 or 1; no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["dotnet", "/app/WalverBot.dll", "--health"]
# docker stop sends SIGTERM and waits 10 s: the bot refuses new webhooks, parks work in flight and exits within 8 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "/app/WalverBot.dll"]

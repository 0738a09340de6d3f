# syntax=docker/dockerfile:1
# WalverBot: build and test with the SDK, run on the ASP.NET runtime as a non-root user.
#   docker build -t walverbot .
#   docker run -d --name walverbot -p 8080:8080 -v walverbot-data:/app/data -e Discord__Token=... walverbot

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Restore first, from the project files alone, so the package layer is reused while only code changes.
COPY global.json Directory.Build.props Directory.Packages.props WalverBot.sln .editorconfig ./
COPY src/WalverBot/WalverBot.csproj src/WalverBot/
COPY src/WalverBot.Discord/WalverBot.Discord.csproj src/WalverBot.Discord/
COPY tests/WalverBot.Testing/WalverBot.Testing.csproj tests/WalverBot.Testing/
COPY tests/WalverBot.Tests/WalverBot.Tests.csproj tests/WalverBot.Tests/
COPY tests/WalverBot.Discord.Tests/WalverBot.Discord.Tests.csproj tests/WalverBot.Discord.Tests/
RUN dotnet restore src/WalverBot/WalverBot.csproj \
 && dotnet restore tests/WalverBot.Tests/WalverBot.Tests.csproj \
 && dotnet restore tests/WalverBot.Discord.Tests/WalverBot.Discord.Tests.csproj
COPY config/ config/
COPY src/ src/
COPY tests/ tests/
# The image is only built from code that passes its tests. (The disk-full drill skips itself: no tmpfs mount in a build.)
RUN dotnet test tests/WalverBot.Discord.Tests/WalverBot.Discord.Tests.csproj --configuration Release --no-restore \
 && dotnet test tests/WalverBot.Tests/WalverBot.Tests.csproj --configuration Release --no-restore
# The same command .ci/run runs, so a broken publish shows up in CI without a Docker engine.
RUN dotnet publish src/WalverBot/WalverBot.csproj --configuration Release --no-restore --output /app/publish -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app/publish .
# config/appsettings.json travels in the publish output; settings come from environment variables (Discord__Token, ...).
ENV Urls=http://0.0.0.0:8080 \
    ConnectionStrings__WalverBot="Data Source=/app/data/walverbot.db" \
    DOTNET_gcServer=0 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
# The aspnet image has a non-root user "app" (uid 1654); the database volume belongs to it.
RUN mkdir -p /app/data && chown app:app /app/data
USER app
VOLUME /app/data
EXPOSE 8080
# The bot's own probe: GET http://127.0.0.1:8080/healthz, exit 0 or 1; no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["dotnet", "/app/WalverBot.dll", "--health"]
# docker stop sends SIGTERM and waits 10 s: the bot refuses new webhooks, parks work in flight and exits within 8 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "/app/WalverBot.dll"]

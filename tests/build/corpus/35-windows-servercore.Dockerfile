# escape=`

FROM mcr.microsoft.com/dotnet/framework/sdk:4.8 AS build
WORKDIR C:\src
COPY *.sln .
COPY MyApp\*.csproj .\MyApp\
RUN nuget restore
COPY . .
RUN msbuild /p:Configuration=Release `
    /p:OutDir=C:\out\

FROM mcr.microsoft.com/dotnet/framework/aspnet:4.8
SHELL ["powershell", "-NoProfile", "-Command"]
COPY --from=build C:\out\ C:\inetpub\wwwroot\
RUN Remove-Item -Recurse C:\inetpub\wwwroot\*.pdb ; `
    Write-Host "done"

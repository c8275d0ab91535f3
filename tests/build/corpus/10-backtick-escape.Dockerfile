# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop';"]
RUN New-Item -ItemType Directory C:\app ; `
    Set-Content C:\app\hello.txt 'hello'
COPY app\ C:\app\
WORKDIR C:\app
ENV PATH="C:\app;C:\Windows\system32" `
    GREETING=hi
CMD ["powershell", "Get-Content", "C:\\app\\hello.txt"]

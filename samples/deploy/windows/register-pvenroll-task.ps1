# Registers the nightly pvenroll import with Task Scheduler: every day at
# 02:15, pvenroll-nightly.ps1 (beside this file) runs as the account that
# runs this script, logged on or not. Run it once from an elevated
# PowerShell ("Run as administrator"): the event log source needs it. Log
# in first as that account (pvenroll login), or give -TokenFile.
#
#   .\register-pvenroll-task.ps1 -Export D:\exports\members.csv -Business 25 `
#       -Flags '--preset', 'abc-ignite', '--create-missing', '--consent-column', 'Terms Accepted At'
#
# Then Start-ScheduledTask pvenroll-nightly runs it now, and
# (Get-ScheduledTaskInfo pvenroll-nightly).LastTaskResult is its exit code.
param(
    [Parameter(Mandatory)] [string]$Export,
    [Parameter(Mandatory)] [string]$Business,
    [string[]]$Flags = @(),
    [string]$TokenFile = '',
    [string]$PvenrollHome = (Join-Path $env:ProgramData 'pvenroll'),
    [string]$At = '02:15',
    [string]$TaskName = 'pvenroll-nightly'
)
$ErrorActionPreference = 'Stop'

# Registering an event log source needs an administrator; say so before
# SourceExists fails with "some or all event logs could not be searched".
$principal = New-Object System.Security.Principal.WindowsPrincipal ([System.Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'run this from an elevated PowerShell ("Run as administrator"): the event log source needs it'
}

# The task starts in another folder (System32): paths are kept absolute,
# resolved from this folder, whether the files exist yet or not.
function Absolute([string]$path) { $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($path) }
$Export = Absolute $Export
$PvenrollHome = Absolute $PvenrollHome
if ($TokenFile) { $TokenFile = Absolute $TokenFile }

# The alert's event log source, once.
if (-not [System.Diagnostics.EventLog]::SourceExists('pvenroll')) {
    [System.Diagnostics.EventLog]::CreateEventSource('pvenroll', 'Application')
}

# The settings file the wrapper reads: no quoting survives a task's command
# line as well as a data file does.
New-Item -ItemType Directory -Force -Path $PvenrollHome | Out-Null
function Quote([string]$v) { "'" + ($v -replace "'", "''") + "'" }
$settings = Join-Path $PvenrollHome 'task.psd1'
@"
@{
    Export    = $(Quote $Export)
    Business  = $(Quote $Business)
    Flags     = @($(($Flags | ForEach-Object { Quote $_ }) -join ', '))
    TokenFile = $(Quote $TokenFile)
    Home      = $(Quote $PvenrollHome)
    Exe       = ''
}
"@ | Set-Content -Encoding UTF8 $settings

$script = Join-Path $PSScriptRoot 'pvenroll-nightly.ps1'
$action = New-ScheduledTaskAction -Execute 'powershell.exe' `
    -Argument "-NoProfile -NonInteractive -ExecutionPolicy Bypass -File `"$script`" -Settings `"$settings`"" `
    -WorkingDirectory (Get-Location).ProviderPath # relative paths in -Flags (--map FILE) mean what they meant here
$trigger = New-ScheduledTaskTrigger -Daily -At $At
# One run at a time (a second would exit 5 on the state file anyway); a run
# still going after 4 hours is stopped (the wrapper's --max-duration is 3h).
# On a laptop, the night's run starts and goes on on battery too (Task
# Scheduler's default would skip it, or stop it when unplugged).
$options = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -StartWhenAvailable `
    -ExecutionTimeLimit (New-TimeSpan -Hours 4) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
$user = [System.Security.Principal.WindowsIdentity]::GetCurrent().Name
$credential = Get-Credential -UserName $user -Message "$user's password, so that the task runs while no one is logged on"
if (-not $credential) { throw "no password given: $TaskName was not registered" }
$password = $credential.GetNetworkCredential().Password
Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger -Settings $options `
    -User $user -Password $password -RunLevel Limited -Force | Out-Null
Write-Output "registered ${TaskName}: daily at $At as $user; settings in $settings"

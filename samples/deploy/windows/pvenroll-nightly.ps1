# Nightly pvenroll import on Windows: the run of pvenroll-nightly.sh (the
# crontab and systemd samples' wrapper) for Task Scheduler, which
# register-pvenroll-task.ps1 sets up. One report folder per night, a state
# file across nights, JSON logs, and an action per exit code.
#
# It exits 0 when nothing needs a person: 0; 1 (rows failed: retried next
# night); 4 (--max-duration: resumed next night). On 2, 3, 5, 6 or an
# unexpected code (127: pvenroll.exe not found) it writes an Error to the
# Windows Application event log (source pvenroll, event id = the exit code)
# with pvenroll's error and hint lines, and exits with that code, which the
# task shows as its Last Run Result. Alert on those events (Event Viewer > Windows Logs > Application,
# or any monitoring that reads the event log).
#
#   powershell -NoProfile -ExecutionPolicy Bypass -File pvenroll-nightly.ps1 -Settings C:\ProgramData\pvenroll\task.psd1
#
# The settings file (register-pvenroll-task.ps1 writes it) is a PowerShell
# data file:
#   @{ Export = 'D:\exports\members.csv'; Business = '25'
#      Flags = @('--preset', 'abc-ignite', '--create-missing')
#      TokenFile = ''   # '': the file 'pvenroll login' wrote (%APPDATA%\pvenroll\token)
#      Home = ''        # '': %ProgramData%\pvenroll (state.db, reports\, pvenroll.log)
#      Exe = '' }       # '': pvenroll.exe on PATH
param([Parameter(Mandatory)] [string]$Settings)
$ErrorActionPreference = 'Stop'
# The wrapper's own failure (no settings file, a home it cannot create) is
# an alert with exit 2, as the shell wrapper's: powershell's own 1 would
# read as "rows failed", and nothing would be in the event log.
trap {
    $text = "pvenroll nightly import on $env:COMPUTERNAME needs a person: exit 2: the wrapper itself failed: $_"
    try { [System.Diagnostics.EventLog]::WriteEntry('pvenroll', $text, [System.Diagnostics.EventLogEntryType]::Error, 2) } catch { }
    Write-Output $text
    exit 2
}
$s = Import-PowerShellDataFile $Settings
$pvHome = if ($s.Home) { $s.Home } else { Join-Path $env:ProgramData 'pvenroll' }
$exe = if ($s.Exe) { $s.Exe } else { 'pvenroll.exe' }
$env:PERKVILLE_BUSINESS = $s.Business

$reports = Join-Path $pvHome 'reports'
New-Item -ItemType Directory -Force -Path $reports | Out-Null
$log = Join-Path $pvHome 'pvenroll.log'
$last = Join-Path $pvHome 'last-run.log'

# A rerun the same night (after exit 1, 4 or 130) gets its own folder.
$day = Get-Date -Format 'yyyy-MM-dd'
$out = Join-Path $reports $day
for ($n = 2; Test-Path $out; $n++) { $out = Join-Path $reports "$day-$n" }

$pvArgs = @('enroll', '--state', (Join-Path $pvHome 'state.db'), '--out', $out,
    '--log-format', 'json', '--max-duration', '3h')
if ($s.TokenFile) { $pvArgs += @('--token-file', $s.TokenFile) }
if ($s.Flags) { $pvArgs += $s.Flags } # a settings file without Flags adds no empty argument
$pvArgs += $s.Export

function Note([string]$text) { Add-Content -Encoding UTF8 $log "$(Get-Date -Format o) pvenroll-nightly: $text" }

function Alert([string]$text) {
    Note $text
    $said = ''
    if (Test-Path $last) {
        $said = (Select-String -Path $last -Pattern '^(error|hint):' | ForEach-Object { '  ' + $_.Line }) -join "`r`n"
    }
    $message = "pvenroll nightly import on $env:COMPUTERNAME needs a person: $text`r`n`r`nWhat pvenroll said:`r`n$said`r`n`r`nFull log: $log"
    try { # the source is registered once, by register-pvenroll-task.ps1 as an administrator
        [System.Diagnostics.EventLog]::WriteEntry('pvenroll', $message, [System.Diagnostics.EventLogEntryType]::Error, $code)
    } catch {
        Note "could not write to the event log (run register-pvenroll-task.ps1 as an administrator once): $_"
    }
    Write-Output $message
}

# Last night's output must not be quoted as tonight's.
Remove-Item -LiteralPath $last -Force -ErrorAction SilentlyContinue

# A pvenroll.exe that cannot be found is an alert with a failing code (127,
# as sh gives), not a run: else $LASTEXITCODE stays empty and the task
# would end with 0.
if (-not (Get-Command $exe -CommandType Application -ErrorAction SilentlyContinue)) {
    $code = 127
    Alert "exit 127: $exe was not found (not on PATH for this account?). Put its folder on PATH, or its full path as Exe in $Settings."
    exit $code
}

# pvenroll writes UTF-8; PowerShell decodes a program's output with the
# console's code page (an OEM one by default), which would garble names
# and dashes in the logs and the event.
try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch { Note "could not set the console to UTF-8: $_" }

# pvenroll's stdout and stderr, as its lines ("$_" turns a stderr record
# back into the line written), to last-run.log, then to the log.
$ErrorActionPreference = 'Continue' # a line on stderr is not the script's failure
& $exe @pvArgs 2>&1 | ForEach-Object { "$_" } | Set-Content -Encoding UTF8 $last
$code = $LASTEXITCODE
Get-Content -Encoding UTF8 $last | Add-Content -Encoding UTF8 $log

switch ($code) {
    0 { Note "done; report in $out" }
    1 { Note "some rows failed; they are retried next night ($out\followup\failed.csv)"; $code = 0 }
    4 { Note '--max-duration reached; the state file resumes the rest next night'; $code = 0 }
    130 { Note 'interrupted; the state file resumes the rest next run' }
    2 { Alert 'exit 2: the command or the export is wrong; nothing was sent. Fix it, then run the task again.' }
    3 { Alert "exit 3: the API refused or could not be reached (token, rights, business, network); the rest were not attempted. Report: $out (if it exists)." }
    5 { Alert "exit 5: another run holds $pvHome\state.db; nothing was done. If no pvenroll runs, look for a hung process." }
    6 { Alert "exit 6: a record of the run (the report in $out, or the state file) could not be written (disk full?); the run stopped. Free space; the next run resumes from the state file." }
    default { Alert "unexpected exit code $code." }
}
exit $code

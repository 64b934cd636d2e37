# egov-probe Windows collector (Windows PowerShell 5.1 or later; run by `egov-probe fleet`
# over WinRM). It only READS and prints ONE JSON document in the Windows evidence format of
# egov_probe/facts/winsource.py ("egov-probe-windows-evidence/1") plus a "system" section;
# the controller judges it with the same code as the local Windows collector.
# The controller puts these variables before this text (see egov_probe/fleet/windows.py):
#   $EgovKeys        registry keys (below HKLM and below each user's hive) and their depth
#   $EgovKnownFiles  browser executables below Program Files, Program Files (x86), AppData\Local
#   $EgovEnv         environment variables the collector reads
# NOT YET RUN ON REAL WINDOWS: tested on this project's fixtures only (see docs/fleet.md).
# Windows PowerShell 5.1 or later (Windows 10/11 and Server 2016+ have it; Windows 7/8.1 need
# Windows Management Framework 5.1): older versions lack what follows, so say so and stop.
if (-not $PSVersionTable -or $PSVersionTable.PSVersion -lt [Version]'5.1') {
  $found = if ($PSVersionTable) { [string]$PSVersionTable.PSVersion } else { '1.0' }
  [Console]::Error.WriteLine("egov-probe: PowerShell $found is too old: the collector needs Windows PowerShell 5.1 or later (install Windows Management Framework 5.1) / PowerShell $found quá cũ: cần Windows PowerShell 5.1 trở lên (cài Windows Management Framework 5.1)")
  exit 3
}
$ErrorActionPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
$registry = @{}
$files = @{}
$ProfileList = 'SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'

function Get-PlainValue([Microsoft.Win32.RegistryKey]$Key, [string]$Name) {
  $kind = $Key.GetValueKind($Name)
  $value = $Key.GetValue($Name, $null, 'DoNotExpandEnvironmentNames')
  switch ($kind) {
    'String' { return [string]$value }
    'ExpandString' { return [string]$value }
    'DWord' { return [int64]([uint32]$value) }
    'QWord' { return [int64]$value }
    'MultiString' { return ,@($value) }
    default { return (($value | ForEach-Object { $_.ToString('x2') }) -join '') }
  }
}

function Add-Key($Base, [string]$Written, [string]$Path, [int]$View, [int]$Depth) {
  $key = $Base.OpenSubKey($Path)
  if ($null -eq $key) { return }
  $values = @{}
  foreach ($name in $key.GetValueNames()) { $values[$name] = Get-PlainValue $key $name }
  $subkeys = @($key.GetSubKeyNames())
  $full = "$Written\$Path"
  if (-not $registry.ContainsKey($full)) { $registry[$full] = @{} }
  $registry[$full]["view$View"] = @{ values = $values; subkeys = $subkeys }
  if ($Depth -gt 0) {
    foreach ($sub in $subkeys) { Add-Key $Base $Written "$Path\$sub" $View ($Depth - 1) }
  }
  $key.Close()
}

function Add-Tree($Base, [string]$Written, [int]$View) {
  foreach ($entry in $EgovKeys) { Add-Key $Base $Written $entry.Path $View $entry.Depth }
}

# The machine, in both registry views.
foreach ($view in 64, 32) {
  $registryView = if ($view -eq 64) { [Microsoft.Win32.RegistryView]::Registry64 } else { [Microsoft.Win32.RegistryView]::Registry32 }
  $hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, $registryView)
  Add-Tree $hklm 'HKLM' $view
  Add-Key $hklm 'HKLM' $ProfileList $view 1
  Add-Key $hklm 'HKLM' 'SOFTWARE\Microsoft\Windows NT\CurrentVersion' $view 0
  # The machine's own identity: MachineGuid (new after sysprep) and the firmware's UUID.
  Add-Key $hklm 'HKLM' 'SOFTWARE\Microsoft\Cryptography' $view 0
  Add-Key $hklm 'HKLM' 'SYSTEM\HardwareConfig' $view 0
}

# Every person's profile: its hive where it is loaded, else loaded from NTUSER.DAT for the read.
$hku = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::Users, [Microsoft.Win32.RegistryView]::Registry64)
$loaded = @($hku.GetSubKeyNames())
$profiles = @()
$plist = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($ProfileList)
foreach ($sid in @($plist.GetSubKeyNames())) {
  if ($sid -notmatch '^S-1-(5-21|12-1)-') { continue }
  $path = [Environment]::ExpandEnvironmentVariables([string]$plist.OpenSubKey($sid).GetValue('ProfileImagePath'))
  $entry = [ordered]@{ sid = $sid; path = $path; loaded = ($loaded -contains $sid); load_error = $null }
  if ($entry.loaded) {
    Add-Tree ($hku.OpenSubKey($sid)) "HKU\$sid" 64
  } else {
    $mount = "egov-probe-$sid"
    $out = & reg.exe load "HKU\$mount" "$path\NTUSER.DAT" 2>&1
    if ($LASTEXITCODE -eq 0) {
      $hive = $hku.OpenSubKey($mount)
      Add-Tree $hive "HKU\$sid" 64
      $hive.Close()
      [GC]::Collect(); [GC]::WaitForPendingFinalizers()
      & reg.exe unload "HKU\$mount" 2>&1 | Out-Null
    } else {
      $entry.load_error = "cannot load $path\NTUSER.DAT: $(($out | Out-String).Trim())"
    }
  }
  $profiles += $entry
}

# Executables: the usual install places, and every .exe the registry values name.
$folders = @($env:ProgramW6432, $env:ProgramFiles, ${env:ProgramFiles(x86)}) | Where-Object { $_ }
$candidates = New-Object System.Collections.Generic.HashSet[string]
foreach ($folder in $folders) { foreach ($rel in $EgovKnownFiles) { [void]$candidates.Add("$folder\$rel") } }
foreach ($p in $profiles) { foreach ($rel in $EgovKnownFiles) { [void]$candidates.Add("$($p.path)\AppData\Local\$rel") } }
foreach ($key in $registry.Values) {
  foreach ($view in $key.Values) {
    # GetEnumerator: a registry value named "Values" would hide the property of that name.
    foreach ($pair in $view['values'].GetEnumerator()) {
      foreach ($m in [regex]::Matches([string]$pair.Value, '[A-Za-z]:\\[^"|<>*?]*?\.exe')) { [void]$candidates.Add($m.Value) }
    }
  }
}
foreach ($path in $candidates) {
  if (-not [IO.File]::Exists($path)) { continue }
  $info = [Diagnostics.FileVersionInfo]::GetVersionInfo($path)
  $version = if ($info.FileVersion) { $info.FileVersion } elseif ($info.ProductVersion) { $info.ProductVersion } else { $null }
  $header = New-Object byte[] 4096
  $stream = [IO.File]::OpenRead($path)
  $read = $stream.Read($header, 0, 4096)
  $stream.Close()
  $files[$path] = @{ version = $version; pe_header = [Convert]::ToBase64String($header, 0, $read) }
}

$environment = @{}
foreach ($name in $EgovEnv) {
  $value = [Environment]::GetEnvironmentVariable($name)
  if ($null -ne $value) { $environment[$name] = $value }
}

$os = Get-CimInstance Win32_OperatingSystem
$cs = Get-CimInstance Win32_ComputerSystem
$cpu = Get-CimInstance Win32_Processor | Select-Object -First 1
$disk = Get-CimInstance Win32_LogicalDisk -Filter "DeviceID='$($env:SystemDrive)'"
$acp = (Get-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\Nls\CodePage').ACP
$system = [ordered]@{
  hostname = $env:COMPUTERNAME
  ram_bytes = [int64]$cs.TotalPhysicalMemory
  logical_processors = [int]$cs.NumberOfLogicalProcessors
  cpu_model = ([string]$cpu.Name).Trim()
  system_drive = "$($env:SystemDrive)\"
  disk_free_bytes = [int64]$disk.FreeSpace
  boot_epoch = ([DateTimeOffset]$os.LastBootUpTime).ToUnixTimeSeconds()
  now_epoch = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
  utc_offset_seconds = [int][TimeZoneInfo]::Local.GetUtcOffset([DateTime]::Now).TotalSeconds
  time_zone = [TimeZoneInfo]::Local.Id
  culture = (Get-Culture).Name
  ansi_code_page = [string]$acp
  fonts_folder = "$env:windir\Fonts"
  fonts = @(Get-ChildItem -LiteralPath "$env:windir\Fonts" -Name)
}

$document = [ordered]@{
  format = 'egov-probe-windows-evidence/1'
  _origin = "egov-probe collector over WinRM on $env:COMPUTERNAME at $([DateTime]::UtcNow.ToString('o'))"
  registry = $registry
  files = $files
  environment = $environment
  profiles = $profiles
  system = $system
}
[Console]::Out.Write((ConvertTo-Json -InputObject $document -Depth 12 -Compress))

<#
.SYNOPSIS
    Build the KneeOA bundle with PyInstaller, then the Windows installer KneeOA-Setup-<version>.exe.

.DESCRIPTION
    dist\KneeOA\ holds KneeOA.exe (the window) and kneeoa-cli.exe (the command line; Windows
    does not tell "KneeOA" from "kneeoa"). The installer is made with Inno Setup 6 from
    packaging\windows\kneeoa.iss; the version comes from kneeoa_desktop\__init__.py.

    The same recipe as packaging/build-windows-wine.sh (Linux, under Wine), so that both make
    the same installer: a build environment of its own, $WorkPath\venv-<onnxruntime package>,
    holding exactly packaging\windows\requirements.py's list (the project's default
    dependencies: the lean engine, no TensorFlow or Keras; PyInstaller; msvc-runtime, whose
    msvcp140*.dll build.spec bundles) with the pins of packaging\windows\requirements-windows.txt;
    PyInstaller from build.spec; Inno Setup with packaging\windows\kneeoa.iss, lzma2/max.
    $Python (3.12, as under Wine) only makes that environment.

    -OnnxRuntime onnxruntime-directml builds the DirectML bundle in its own environment: it
    grades on any DirectX 12 GPU, else on the CPU.

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File packaging\build.ps1
    packaging\build.ps1 -DistPath out -WorkPath tmp -Python C:\Python312\python.exe
    packaging\build.ps1 -OnnxRuntime onnxruntime-directml
    packaging\build.ps1 -Compression lzma2/fast   # a larger installer in a fraction of the time
#>
param(
    [string]$DistPath = "",
    [string]$WorkPath = "",
    [string]$Python = "",
    [string]$Iscc = "",
    [string]$OnnxRuntime = "onnxruntime",
    [string]$Compression = "lzma2/max",
    [switch]$SkipBundle,
    [switch]$NoInstaller
)
$ErrorActionPreference = "Stop"
$Root = Split-Path -Parent $PSScriptRoot
if (-not $DistPath) { $DistPath = Join-Path $Root "dist" }
if (-not $WorkPath) { $WorkPath = Join-Path $Root "build" }
New-Item -ItemType Directory -Force -Path $DistPath, $WorkPath | Out-Null
$DistPath = (Resolve-Path $DistPath).Path
$WorkPath = (Resolve-Path $WorkPath).Path
if (-not $Python) {
    $venv = Join-Path $Root ".venv\Scripts\python.exe"
    $Python = if (Test-Path $venv) { $venv } else { "python" }
}

function Invoke-Checked([string]$What, [scriptblock]$Command) {
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "build.ps1: $What failed (exit code $LASTEXITCODE)." }
}

Push-Location $Root
try {
    $Version = (& $Python -c "from kneeoa_desktop import __version__; print(__version__)").Trim()
    if ($LASTEXITCODE -ne 0 -or -not $Version) { throw "build.ps1: cannot read the version with $Python." }
    $Bundle = Join-Path $DistPath "KneeOA"

    # The build environment: packaging\windows\requirements.py's list with the shared pins,
    # nothing else (whatever $Python's own environment holds, TensorFlow included).
    $Venv = Join-Path $WorkPath "venv-$OnnxRuntime"
    $VenvPython = Join-Path $Venv "Scripts\python.exe"
    if (-not $SkipBundle) {
        if (-not (Test-Path $VenvPython)) {
            Write-Host "[build.ps1] build environment without TensorFlow in $Venv"
            Invoke-Checked "venv" { & $Python -m venv $Venv }
        }
        $Requirements = Join-Path $WorkPath "requirements-$OnnxRuntime.txt"
        & $Python (Join-Path $Root "packaging\windows\requirements.py") $OnnxRuntime | Set-Content -Encoding ascii $Requirements
        if ($LASTEXITCODE -ne 0) { throw "build.ps1: packaging\windows\requirements.py failed." }
        Invoke-Checked "pip install" { & $VenvPython -m pip install --quiet --disable-pip-version-check -r $Requirements -c (Join-Path $Root "packaging\windows\requirements-windows.txt") }
        & $VenvPython -c "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in ('tensorflow', 'keras')))"
        if ($LASTEXITCODE -ne 0) { throw "build.ps1: $Venv holds TensorFlow or Keras; remove it and build again." }
        Write-Host "[build.ps1] PyInstaller bundle, KneeOA $Version, into $Bundle"
        $watch = [Diagnostics.Stopwatch]::StartNew()
        Invoke-Checked "PyInstaller" { & $VenvPython -m PyInstaller build.spec --noconfirm --clean --distpath $DistPath --workpath $WorkPath }
        Write-Host ("[build.ps1] bundle built in {0:N0} s" -f $watch.Elapsed.TotalSeconds)
    }
    if (-not (Test-Path (Join-Path $Bundle "KneeOA.exe"))) { throw "build.ps1: no bundle at $Bundle." }
    if ($NoInstaller) { return }

    # The installer's own icon, from the PNGs (Pillow is in the build environment).
    if (-not (Test-Path $VenvPython)) { throw "build.ps1: no build environment at $Venv (build once without -SkipBundle)." }
    $Icon = Join-Path $WorkPath "kneeoa.ico"
    Invoke-Checked "icon" { & $VenvPython -c "import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2], sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])" (Join-Path $Root "resources\icons\kneeoa-256.png") $Icon }

    if (-not $Iscc) {
        $found = Get-Command iscc.exe -ErrorAction SilentlyContinue
        $candidates = @(
            $(if ($found) { $found.Source }),
            "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe",
            "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
            "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe"
        ) | Where-Object { $_ -and (Test-Path $_) }
        if (-not $candidates) { throw "build.ps1: Inno Setup 6 not found (choco install innosetup --version 6.4.1, or pass -Iscc)." }
        $Iscc = @($candidates)[0]
    }
    Write-Host "[build.ps1] installer with $Iscc"
    Invoke-Checked "Inno Setup" { & $Iscc "/Q" "/DAppVersion=$Version" "/DSourceDir=$Bundle" "/DOutputDir=$DistPath" "/DIconFile=$Icon" "/DCompression=$Compression" (Join-Path $Root "packaging\windows\kneeoa.iss") }
    $Setup = Join-Path $DistPath "KneeOA-Setup-$Version.exe"
    Write-Host ("[build.ps1] {0} ({1:N0} MB)" -f $Setup, ((Get-Item $Setup).Length / 1MB))
}
finally {
    Pop-Location
}

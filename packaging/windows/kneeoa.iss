; Inno Setup 6 script: KneeOA-Setup-<version>.exe from the PyInstaller bundle dist\KneeOA.
;
; Built by packaging\build.ps1 (Windows) and packaging/build-windows-wine.sh (Linux, under Wine),
; which pass the values below; by hand:
;   ISCC.exe /DAppVersion=0.1.0 /DSourceDir=..\..\dist\KneeOA /DOutputDir=..\..\dist kneeoa.iss
;
; Installs per machine (Program Files) or, if the user chooses, for the current user only
; without administrator rights. Start-menu entry, optional desktop icon, optional "Open with"
; for DICOM files, and an uninstaller (Settings > Apps) that removes everything it installed.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\KneeOA"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
; lzma2/max with a solid archive: the smallest installer (the build scripts' default);
; /DCompression=lzma2/fast builds in a fraction of the time for a larger file (docs/BUILDING.md).
#ifndef Compression
  #define Compression "lzma2/max"
#endif

#define AppName "KneeOA Desktop"
#define AppExe "KneeOA.exe"
#define CliExe "kneeoa-cli.exe"

[Setup]
; Never change AppId: Windows uses it to recognise upgrades and to find the uninstaller.
AppId={{497300B3-F5B5-45F0-9478-AD3E16835537}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=The KneeOA Desktop developers
AppComments=Kellgren-Lawrence grading of knee radiographs. Decision support only, not a diagnosis.
VersionInfoVersion={#AppVersion}
; {autopf} is Program Files per machine and %LOCALAPPDATA%\Programs per user; Wine 8.0 cannot
; expand the per-user one (FOLDERID_UserProgramFiles), so the same two folders are named here.
DefaultDirName={code:DefaultInstallDir}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=admin
; The installer asks "for all users or only for me?"; a silent install chooses with /ALLUSERS
; (per machine, Program Files, needs administrator rights) or /CURRENTUSER (per user, in
; %LOCALAPPDATA%\Programs, no administrator rights): both need "commandline" here.
PrivilegesRequiredOverridesAllowed=commandline dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
LicenseFile=..\..\LICENSE
#ifdef IconFile
SetupIconFile={#IconFile}
#endif
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
OutputDir={#OutputDir}
OutputBaseFilename=KneeOA-Setup-{#AppVersion}
; The separate process keeps the compiler's memory in check.
Compression={#Compression}
SolidCompression=yes
LZMAUseSeparateProcess=yes
WizardStyle=modern
ChangesAssociations=yes
CloseApplications=yes

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
Name: "ru"; MessagesFile: "compiler:Languages\Russian.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "dicom"; Description: "Open DICOM files (.dcm) with {#AppName}"; GroupDescription: "File associations:"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Grade knee radiographs (decision support)"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; "Open with" for radiographs, without taking the default program away from other viewers.
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".png"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpeg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".tif"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".tiff"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".bmp"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".dcm"; ValueData: ""
; The optional DICOM association (task "dicom").
Root: HKA; Subkey: "Software\Classes\KneeOA.Radiograph"; ValueType: string; ValueName: ""; ValueData: "DICOM radiograph"; Flags: uninsdeletekey; Tasks: dicom
Root: HKA; Subkey: "Software\Classes\KneeOA.Radiograph\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: dicom
Root: HKA; Subkey: "Software\Classes\KneeOA.Radiograph\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: dicom
Root: HKA; Subkey: "Software\Classes\.dcm\OpenWithProgids"; ValueType: string; ValueName: "KneeOA.Radiograph"; ValueData: ""; Flags: uninsdeletevalue; Tasks: dicom

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
// Where {autopf} points on Windows: Program Files (per machine), %LOCALAPPDATA%\Programs (per user).
function DefaultInstallDir(Param: String): String;
begin
  if IsAdminInstallMode then
    Result := ExpandConstant('{commonpf}\KneeOA')
  else
    Result := ExpandConstant('{localappdata}\Programs\KneeOA');
end;

package unitfile

import (
	"strings"
	"sync"
)

// Expansion says what systemd does with a '%' in a setting's value.
type Expansion int

// How systemd reads '%' in a setting.
const (
	// Unknown: a setting this list does not hold.
	Unknown Expansion = iota
	// Expands: systemd resolves specifiers (%n, %t, ...) in the value; a
	// literal '%' is written '%%'.
	Expands
	// Literal: systemd reads the value as written (CPUQuota=50%).
	Literal
	// Unprobed: a setting of a newer systemd than the one the list was
	// measured on; a value with '%' in it cannot be written safely.
	Unprobed
)

// keyLists are the settings systemd knows in the [Unit], [Service] and
// [Install] sections: those of systemd 252 (Debian 12), measured by
// whether systemd-analyze verify resolves specifiers in them
// (TestSpecifierClasses repeats the measurement on the build machine),
// and those systemd 257 (Debian 13) added, from its
// --dump-configuration-items. [Install] settings all name units, and
// systemd expands specifiers in them (systemd.unit(5)).
var keyLists = map[string]map[Expansion]string{
	"Unit": {
		Expands: `
		After AssertACPower AssertArchitecture AssertCPUFeature AssertCPUPressure AssertCPUs
		AssertCapability AssertControlGroupController AssertCredential AssertDirectoryNotEmpty
		AssertEnvironment AssertFileIsExecutable AssertFileNotEmpty AssertFirstBoot AssertGroup
		AssertHost AssertIOPressure AssertKernelCommandLine AssertKernelVersion AssertMemory
		AssertMemoryPressure AssertNeedsUpdate AssertOSRelease AssertPathExists AssertPathExistsGlob
		AssertPathIsDirectory AssertPathIsEncrypted AssertPathIsMountPoint AssertPathIsReadWrite
		AssertPathIsSymbolicLink AssertSecurity AssertUser AssertVirtualization Before BindTo
		BindsTo ConditionACPower ConditionArchitecture ConditionCPUFeature ConditionCPUPressure
		ConditionCPUs ConditionCapability ConditionControlGroupController ConditionCredential
		ConditionDirectoryNotEmpty ConditionEnvironment ConditionFileIsExecutable
		ConditionFileNotEmpty ConditionFirmware ConditionFirstBoot ConditionGroup ConditionHost
		ConditionIOPressure ConditionKernelCommandLine ConditionKernelVersion ConditionMemory
		ConditionMemoryPressure ConditionNeedsUpdate ConditionOSRelease ConditionPathExists
		ConditionPathExistsGlob ConditionPathIsDirectory ConditionPathIsEncrypted
		ConditionPathIsMountPoint ConditionPathIsReadWrite ConditionPathIsSymbolicLink
		ConditionSecurity ConditionUser ConditionVirtualization Conflicts Description Documentation
		JobTimeoutRebootArgument JoinsNamespaceOf OnFailure OnSuccess PartOf PropagateReloadFrom
		PropagateReloadTo PropagatesReloadTo PropagatesStopTo RebootArgument ReloadPropagatedFrom
		Requires RequiresMountsFor RequiresOverridable Requisite RequisiteOverridable SourcePath
		StopPropagatedFrom Upholds Wants WantsMountsFor`,
		Literal: `
		AllowIsolate CollectMode DefaultDependencies FailureAction FailureActionExitStatus
		IgnoreOnIsolate JobRunningTimeoutSec JobTimeoutAction JobTimeoutSec OnFailureIsolate
		OnFailureJobMode OnSuccessJobMode RefuseManualStart RefuseManualStop StartLimitAction
		StartLimitBurst StartLimitInterval StartLimitIntervalSec StopWhenUnneeded SuccessAction
		SuccessActionExitStatus`,
		Unprobed: `
		SurviveFinalKillSignal`,
	},
	"Service": {
		Expands: `
		AllowedCPUs AllowedMemoryNodes AppArmorProfile BPFProgram BindPaths BindReadOnlyPaths
		BlockIODeviceWeight BlockIOReadBandwidth BlockIOWriteBandwidth BusName CPUAffinity
		CacheDirectory ConfigurationDirectory DeviceAllow Environment EnvironmentFile ExecCondition
		ExecPaths ExecReload ExecSearchPath ExecStart ExecStartPost ExecStartPre ExecStop
		ExecStopPost ExtensionDirectories ExtensionImages Group IODeviceLatencyTargetSec
		IODeviceWeight IOReadBandwidthMax IOReadIOPSMax IOWriteBandwidthMax IOWriteIOPSMax
		IPCNamespacePath IPEgressFilterPath IPIngressFilterPath InaccessibleDirectories
		InaccessiblePaths LoadCredential LoadCredentialEncrypted LogExtraFields LogNamespace
		LogsDirectory MountImages NetworkNamespacePath NoExecPaths PAMName PIDFile PassEnvironment
		ReadOnlyDirectories ReadOnlyPaths ReadWriteDirectories ReadWritePaths RebootArgument
		RootDirectory RootImage RootImageOptions RootVerity RuntimeDirectory SELinuxContext
		SetCredential SetCredentialEncrypted Slice SmackProcessLabel Sockets StandardError
		StandardInput StandardInputText StandardOutput StartupAllowedCPUs StartupAllowedMemoryNodes
		StateDirectory SupplementaryGroups SyslogIdentifier TTYPath TemporaryFileSystem
		USBFunctionDescriptors USBFunctionStrings UnsetEnvironment User UtmpIdentifier
		WorkingDirectory`,
		Literal: `
		AmbientCapabilities BlockIOAccounting BlockIOWeight CPUAccounting CPUQuota CPUQuotaPeriodSec
		CPUSchedulingPolicy CPUSchedulingPriority CPUSchedulingResetOnFork CPUShares CPUWeight
		CacheDirectoryMode CapabilityBoundingSet ConfigurationDirectoryMode CoredumpFilter
		DefaultMemoryLow DefaultMemoryMin DefaultStartupMemoryLow Delegate DevicePolicy
		DisableControllers DynamicUser ExitType FailureAction FileDescriptorStoreMax FinalKillSignal
		GuessMainPID IOAccounting IOSchedulingClass IOSchedulingPriority IOWeight IPAccounting
		IPAddressAllow IPAddressDeny IgnoreSIGPIPE KeyringMode KillMode KillSignal LimitAS LimitCORE
		LimitCPU LimitDATA LimitFSIZE LimitLOCKS LimitMEMLOCK LimitMSGQUEUE LimitNICE LimitNOFILE
		LimitNPROC LimitRSS LimitRTPRIO LimitRTTIME LimitSIGPENDING LimitSTACK LockPersonality
		LogLevelMax LogRateLimitBurst LogRateLimitIntervalSec LogsDirectoryMode
		ManagedOOMMemoryPressure ManagedOOMMemoryPressureLimit ManagedOOMPreference ManagedOOMSwap
		MemoryAccounting MemoryDenyWriteExecute MemoryHigh MemoryLimit MemoryLow MemoryMax MemoryMin
		MemorySwapMax MemoryZSwapMax MountAPIVFS MountFlags NUMAMask NUMAPolicy Nice NoNewPrivileges
		NonBlocking NotifyAccess OOMPolicy OOMScoreAdjust PermissionsStartOnly Personality
		PrivateDevices PrivateIPC PrivateMounts PrivateNetwork PrivateTmp PrivateUsers ProcSubset
		ProtectClock ProtectControlGroups ProtectHome ProtectHostname ProtectKernelLogs
		ProtectKernelModules ProtectKernelTunables ProtectProc ProtectSystem RemainAfterExit
		RemoveIPC Restart RestartForceExitStatus RestartKillSignal RestartPreventExitStatus
		RestartSec RestrictAddressFamilies RestrictFileSystems RestrictNamespaces
		RestrictNetworkInterfaces RestrictRealtime RestrictSUIDSGID RootDirectoryStartOnly RootHash
		RootHashSignature RuntimeDirectoryMode RuntimeDirectoryPreserve RuntimeMaxSec
		RuntimeRandomizedExtraSec SecureBits SendSIGHUP SendSIGKILL SocketBindAllow SocketBindDeny
		StandardInputData StartLimitAction StartLimitBurst StartLimitInterval StartupBlockIOWeight
		StartupCPUShares StartupCPUWeight StartupIOWeight StartupMemoryHigh StartupMemoryLow
		StartupMemoryMax StartupMemorySwapMax StartupMemoryZSwapMax StateDirectoryMode
		SuccessExitStatus SyslogFacility SyslogLevel SyslogLevelPrefix SystemCallArchitectures
		SystemCallErrorNumber SystemCallFilter SystemCallLog TTYColumns TTYReset TTYRows TTYVHangup
		TTYVTDisallocate TasksAccounting TasksMax TimeoutAbortSec TimeoutCleanSec TimeoutSec
		TimeoutStartFailureMode TimeoutStartSec TimeoutStopFailureMode TimeoutStopSec TimerSlackNSec
		Type UMask UtmpMode WatchdogSec WatchdogSignal`,
		Unprobed: `
		BindLogSockets CoredumpReceive DelegateSubgroup ExtensionImagePolicy
		FileDescriptorStorePreserve ImportCredential LogFilterPatterns
		ManagedOOMMemoryPressureDurationSec MemoryKSM MemoryPressureThresholdSec MemoryPressureWatch
		MemoryZSwapWriteback MountImagePolicy NFTSet OpenFile PrivatePIDs ReloadSignal
		RestartMaxDelaySec RestartMode RestartSteps RootEphemeral RootImagePolicy
		SetLoginEnvironment`,
	},
	"Install": {
		Expands: `
		Alias Also DefaultInstance RequiredBy UpheldBy WantedBy`,
	},
}

var (
	keysOnce sync.Once
	keys     map[string]map[string]Expansion
)

// KeyExpansion says whether systemd knows setting key in section, and what
// it does with a '%' in its value.
func KeyExpansion(section, key string) Expansion {
	keysOnce.Do(func() {
		keys = map[string]map[string]Expansion{}
		for sec, classes := range keyLists {
			keys[sec] = map[string]Expansion{}
			for class, list := range classes {
				for _, k := range strings.Fields(list) {
					keys[sec][k] = class
				}
			}
		}
	})
	return keys[section][key]
}

// Keys lists the settings of a section this package knows, for tests.
func Keys(section string) []string {
	var out []string
	for _, list := range keyLists[section] {
		out = append(out, strings.Fields(list)...)
	}
	return out
}
